import { ConfigError } from '../errors.js';
import { parseBoolean, parseDuration, parseInteger } from './parse.js';
import type { MemberOptions, OutlierOptions, SlowStartOptions } from './options.js';
import {
  HC_METHODS,
  type HcMethod,
  type HealthCheckSpec,
  type OutlierSpec,
  type SlowStartSpec,
} from './health-spec.js';

/** Member keys this module owns (validate.ts adds them to the allowed set). */
export const HEALTH_MEMBER_KEYS = [
  'hcmethod',
  'hcinterval',
  'hcpasses',
  'hcfails',
  'hcuri',
  'hcexpect',
  'hcbody',
  'hctimeout',
  'hcbeforetraffic',
] as const;

/** The health-check options of a member. */
export type HealthOptions = Pick<MemberOptions, (typeof HEALTH_MEMBER_KEYS)[number]>;

const DEFAULT_EXPECT: ReadonlySet<number> = new Set(range(200, 399));
const HTTP_WITH_URI = new Set<HcMethod>(['HEAD', 'GET', 'HEAD11', 'GET11']);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Status sets: [200, 204], "200,204", "200-299" or "5xx" (any mix). Ranges are ours: Apache needs an
 * hcexpr expression for anything but its fixed 200..399.
 */
export function parseStatusSet(field: string, value: unknown): Set<number> {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : null;
  const bad = (): ConfigError =>
    new ConfigError(field, value, 'is not a list of HTTP statuses (100..599), ranges "200-299" or classes "5xx"');
  if (!items || items.length === 0) throw bad();
  const out = new Set<number>();
  for (const item of items) {
    const text = String(item).trim().toLowerCase();
    const cls = /^([1-5])xx$/.exec(text);
    const span = /^(\d{3})-(\d{3})$/.exec(text);
    let from: number;
    let to: number;
    if (cls) [from, to] = [Number(cls[1]) * 100, Number(cls[1]) * 100 + 99];
    else if (span) [from, to] = [Number(span[1]), Number(span[2])];
    else if (/^\d{3}$/.test(text) && (typeof item === 'number' || typeof item === 'string')) from = to = Number(text);
    else throw bad();
    if (from < 100 || to > 599 || from > to) throw bad();
    for (const n of range(from, to)) out.add(n);
  }
  return out;
}

/** The check method a value names (any case, spaces around ignored), or undefined. */
export function hcMethodOf(value: unknown): HcMethod | undefined {
  const upper = typeof value === 'string' ? value.trim().toUpperCase() : '';
  return HC_METHODS.find((m) => m === upper);
}

function parseMethod(field: string, value: unknown): HcMethod {
  const found = hcMethodOf(value);
  if (!found) throw new ConfigError(field, value, `is not a health check method (${HC_METHODS.join(', ')})`);
  return found;
}

/** hcuri joined to the base path with exactly one "/" between (Apache concatenates naively and can send "//"). */
function checkUri(field: string, value: unknown, basePath: string): string {
  if (value === undefined) return `${basePath}/`;
  if (typeof value !== 'string' || value.length > 63 || !/^[\x21-\x7e]*$/.test(value) || value.includes('#')) {
    throw new ConfigError(field, value, 'is not a path of at most 63 visible characters without "#" (e.g. "/health")');
  }
  return `${basePath}/${value.replace(/^\/+/, '')}`;
}

function parseBody(field: string, value: unknown): string | RegExp {
  if (value instanceof RegExp) return new RegExp(value.source, value.flags.replace(/[gy]/g, ''));
  if (typeof value === 'string' && value !== '') return value;
  throw new ConfigError(field, value, 'is not a non-empty string or a RegExp');
}

function refuseFor(
  path: string,
  m: HealthOptions,
  key: keyof HealthOptions,
  method: HcMethod,
  allowed: Set<HcMethod>,
): void {
  if (m[key] !== undefined && !allowed.has(method)) {
    throw new ConfigError(
      `${path}.${key}`,
      m[key],
      `has no effect with hcmethod ${method} (use ${[...allowed].join(', ')})`,
    );
  }
}

/** The member's active check, or undefined for hcmethod NONE (the default, as in Apache). */
export function validateHealthCheck(path: string, m: HealthOptions, basePath: string): HealthCheckSpec | undefined {
  const method = m.hcmethod === undefined ? 'NONE' : parseMethod(`${path}.hcmethod`, m.hcmethod);
  if (method === 'NONE') {
    const stray = HEALTH_MEMBER_KEYS.find((k) => k !== 'hcmethod' && m[k] !== undefined);
    if (stray) throw new ConfigError(`${path}.${stray}`, m[stray], 'needs an hcmethod other than NONE');
    return undefined;
  }
  refuseFor(path, m, 'hcuri', method, HTTP_WITH_URI);
  refuseFor(path, m, 'hcbody', method, new Set(['GET', 'GET11']));
  if (method === 'TCP' && m.hcexpect !== undefined) {
    throw new ConfigError(`${path}.hcexpect`, m.hcexpect, 'has no effect with hcmethod TCP (no status to check)');
  }
  const intervalMs = m.hcinterval === undefined ? 30_000 : parseDuration(`${path}.hcinterval`, m.hcinterval, 100);
  return {
    method,
    intervalMs,
    passes: m.hcpasses === undefined ? 1 : parseInteger(`${path}.hcpasses`, m.hcpasses, 1, 1000),
    fails: m.hcfails === undefined ? 1 : parseInteger(`${path}.hcfails`, m.hcfails, 1, 1000),
    uri: checkUri(`${path}.hcuri`, m.hcuri, basePath),
    expect: m.hcexpect === undefined ? DEFAULT_EXPECT : parseStatusSet(`${path}.hcexpect`, m.hcexpect),
    body: m.hcbody === undefined ? undefined : parseBody(`${path}.hcbody`, m.hcbody),
    timeoutMs: m.hctimeout === undefined ? 5000 : parseDuration(`${path}.hctimeout`, m.hctimeout, 1, 600_000),
    beforeTraffic: m.hcbeforetraffic === undefined ? false : parseBoolean(`${path}.hcbeforetraffic`, m.hcbeforetraffic),
  };
}

export const OUTLIER_KEYS = new Set([
  'consecutiveFailures',
  'failureStatuses',
  'baseEjectionTime',
  'maxEjectionTime',
  'maxEjectionPercent',
]);
export const SLOWSTART_KEYS = new Set(['window', 'minWeightPercent', 'aggression']);

function checkKeys(field: string, obj: Record<string, unknown>, allowed: Set<string>): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key))
      throw new ConfigError(`${field}.${key}`, obj[key], `is not an option (${[...allowed].join(', ')})`);
  }
}

/** undefined = not set here (inherit), null = explicitly off. */
export function validateOutlier(field: string, value: unknown): OutlierSpec | null | undefined {
  if (value === undefined) return undefined;
  if (value === false) return null;
  if (value !== true && !isObject(value))
    throw new ConfigError(field, value, 'is not true, false or an outlier options object');
  const o = (value === true ? {} : value) as OutlierOptions;
  checkKeys(field, o as Record<string, unknown>, OUTLIER_KEYS);
  const baseEjectionMs =
    o.baseEjectionTime === undefined ? 30_000 : parseDuration(`${field}.baseEjectionTime`, o.baseEjectionTime, 1);
  const maxEjectionMs =
    o.maxEjectionTime === undefined
      ? Math.max(300_000, baseEjectionMs)
      : parseDuration(`${field}.maxEjectionTime`, o.maxEjectionTime, 1);
  if (maxEjectionMs < baseEjectionMs) {
    throw new ConfigError(
      `${field}.maxEjectionTime`,
      o.maxEjectionTime,
      `is shorter than baseEjectionTime (${baseEjectionMs} ms)`,
    );
  }
  return {
    // At least 2: a single slow or failed request must never eject a worker (CVE-2012-4557).
    consecutiveFailures:
      o.consecutiveFailures === undefined
        ? 5
        : parseInteger(`${field}.consecutiveFailures`, o.consecutiveFailures, 2, 1000),
    failureStatuses:
      o.failureStatuses === undefined
        ? new Set(range(500, 599))
        : parseStatusSet(`${field}.failureStatuses`, o.failureStatuses),
    baseEjectionMs,
    maxEjectionMs,
    maxEjectionPercent:
      o.maxEjectionPercent === undefined
        ? 50
        : parseInteger(`${field}.maxEjectionPercent`, o.maxEjectionPercent, 0, 100),
  };
}

function parseNumber(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(field, value, `is not a number in ${min}..${max}`);
  }
  return value;
}

/** undefined = not set here (inherit), null = explicitly off. */
export function validateSlowStart(field: string, value: unknown): SlowStartSpec | null | undefined {
  if (value === undefined) return undefined;
  if (value === false) return null;
  if (typeof value !== 'number' && typeof value !== 'string' && !isObject(value)) {
    throw new ConfigError(field, value, 'is not a window duration, false or a slow start options object');
  }
  const o = (isObject(value) ? value : { window: value }) as Partial<SlowStartOptions>;
  checkKeys(field, o, SLOWSTART_KEYS);
  if (o.window === undefined) throw new ConfigError(`${field}.window`, o.window, 'is required (e.g. "30s")');
  return {
    windowMs: parseDuration(`${field}.window`, o.window, 1),
    minWeightPercent:
      o.minWeightPercent === undefined ? 10 : parseNumber(`${field}.minWeightPercent`, o.minWeightPercent, 1, 100),
    aggression: o.aggression === undefined ? 1 : parseNumber(`${field}.aggression`, o.aggression, 0.1, 10),
  };
}

/** A balancer's own setting wins over the global one; null (false) switches it off. */
export function pick<T>(own: T | null | undefined, global: T | undefined): T | undefined {
  return own === null ? undefined : (own ?? global);
}

/** A balancer's health settings, its own or else the global ones. */
export function balancerHealth(
  path: string,
  b: { outlier?: unknown; slowstart?: unknown },
  global: { outlier?: OutlierSpec | undefined; slowstart?: SlowStartSpec | undefined },
): { outlier?: OutlierSpec; slowstart?: SlowStartSpec } {
  const outlier = pick(validateOutlier(`${path}.outlier`, b.outlier), global.outlier);
  const slowstart = pick(validateSlowStart(`${path}.slowstart`, b.slowstart), global.slowstart);
  return { ...(outlier && { outlier }), ...(slowstart && { slowstart }) };
}

/** A status set as the shortest text parseStatusSet reads back: "200-399", "200,204". */
export function statusSetText(set: ReadonlySet<number>): string {
  const sorted = [...set].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A check's settings back in option form (hcinterval in ms), so an edit can change one and re-validate all. */
export function healthCheckOptions(spec: HealthCheckSpec, basePath: string): HealthOptions {
  const out: HealthOptions = {
    hcmethod: spec.method,
    hcinterval: spec.intervalMs,
    hcpasses: spec.passes,
    hcfails: spec.fails,
    hctimeout: spec.timeoutMs,
    hcbeforetraffic: spec.beforeTraffic,
  };
  if (HTTP_WITH_URI.has(spec.method)) out.hcuri = spec.uri.slice(basePath.length);
  if (spec.method !== 'TCP') out.hcexpect = statusSetText(spec.expect);
  if (spec.body !== undefined) out.hcbody = spec.body;
  return out;
}

/** Whether an option applies to a check method (hcuri to HTTP checks with a target, hcbody to GET, hcexpect to all but TCP). */
export function appliesTo(key: (typeof HEALTH_MEMBER_KEYS)[number], method: HcMethod): boolean {
  if (method === 'NONE') return key === 'hcmethod';
  if (key === 'hcuri') return HTTP_WITH_URI.has(method);
  if (key === 'hcbody') return method === 'GET' || method === 'GET11';
  if (key === 'hcexpect') return method !== 'TCP';
  return true;
}
