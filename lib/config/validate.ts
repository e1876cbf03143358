import os from 'node:os';
import { ConfigError } from '../errors.js';
import { systemClock } from '../model/clock.js';
import { hasScheduler, listSchedulers } from '../schedulers/registry.js';
import { MemoryStore } from '../store/memory-store.js';
import type { BalancerConfig, BalancerOptions, MemberOptions, RouteCookieOptions } from './options.js';
import type { RouteCookieSpec } from '../model/route-cookie.js';
import type { BalancerSpec, DiscoverySpec, MemberSpec, StickyNames } from './spec.js';
import type { GlobalSpec } from './global-spec.js';
import {
  parseBoolean,
  parseDuration,
  parseInteger,
  parseLoadfactor,
  parseOneOf,
  parseStatus,
  parseStatusList,
  parseToken,
} from './parse.js';
import {
  HEALTH_MEMBER_KEYS,
  balancerHealth,
  validateHealthCheck,
  validateOutlier,
  validateSlowStart,
} from './health.js';
import { Notices, type Logger } from '../logger.js';
import { durationWarnings } from './warnings.js';
import { isDiscovered, validateDiscovery } from './discovery.js';
import { validateSchedulerSettings } from './scheduler-options.js';
import { parseEngine } from './engine.js';

const MEMBER_KEYS = new Set([
  'url',
  'loadfactor',
  'lbset',
  'route',
  'redirect',
  'retry',
  'status',
  'connectiontimeout',
  'timeout',
  'max',
  'maxupgrades',
  'tls',
  ...HEALTH_MEMBER_KEYS,
]);
const BALANCER_KEYS = new Set([
  'name',
  'mount',
  'path',
  'lbmethod',
  'maxattempts',
  'nofailover',
  'stickysession',
  'stickysessionsep',
  'scolonpathdelim',
  'timeout',
  'failonstatus',
  'failontimeout',
  'forcerecovery',
  'growth',
  'nonce',
  'members',
  'routecookie',
  'retryon',
  'replay',
  'retrybudget',
  'queue',
  'outlier',
  'slowstart',
  'maxupgrades',
  'hashkey',
  'hashbalancefactor',
  'p2cbias',
  'ewmadecay',
  'panic',
  'proxypassreverse',
  'engine',
]);
const GLOBAL_KEYS = new Set([
  'balancers',
  'engine',
  'preserveHost',
  'serverName',
  'xForwarded',
  'replayBufferBytes',
  'exposeHeaders',
  'onError',
  'keepAliveIdle',
  'store',
  'storeTimeout',
  'storeStrict',
  'clock',
  'random',
  'bodyTimeout',
  'outlier',
  'slowstart',
  'logger',
  'errorHeader',
]);

const DEFAULT_RETRY_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 300_000;
const DEFAULT_MAX_SOCKETS = 256;
const DEFAULT_MAX_UPGRADES = 1024;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(path: string, obj: Record<string, unknown>, allowed: Set<string>): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) {
      const near = [...allowed].find((k) => k.toLowerCase() === key.toLowerCase());
      throw new ConfigError(`${path}.${key}`, obj[key], `is not an option${near ? ` (did you mean "${near}"?)` : ''}`);
    }
  }
}

/**
 * Checks the whole configuration once; throws a ConfigError naming the first bad field. `warnings`
 * are values that are valid but probably not meant (the caller says them through the logger).
 */
export function validateConfig(config: unknown): {
  global: GlobalSpec;
  balancers: BalancerSpec[];
  warnings: string[];
} {
  if (!isObject(config)) throw new ConfigError('config', config, 'is not an object with a "balancers" array');
  if (!('balancers' in config) && ('members' in config || 'mount' in config)) {
    // One balancer's options passed as the whole configuration: the most common first mistake.
    throw new ConfigError(
      'balancers',
      undefined,
      'is missing: this looks like one balancer (it has mount or members); wrap it: balancer({ balancers: [ … ] })',
    );
  }
  checkKeys('config', config, GLOBAL_KEYS);
  const c = config as unknown as BalancerConfig;
  if (!Array.isArray(c.balancers) || c.balancers.length === 0) {
    throw new ConfigError('balancers', c.balancers, 'is not a non-empty array of balancers');
  }
  const global = validateGlobal(c);
  const names = new Set<string>();
  const balancers = c.balancers.map((b, i) => {
    const spec = { ...validateBalancer(`balancers[${i}]`, b, global), ...balancerHealth(`balancers[${i}]`, b, global) };
    if (names.has(spec.name)) {
      throw new ConfigError(`balancers[${i}].name`, b.name, 'is used by another balancer', 'ERR_CONFIG_DUPLICATE');
    }
    names.add(spec.name);
    return spec;
  });
  return { global, balancers, warnings: durationWarnings(c) };
}

/** xForwarded: "edge", or a boolean as the other switches take it. */
function parseXForwarded(v: unknown): boolean | 'edge' {
  if (v === undefined) return true;
  if (v === 'edge') return v;
  if (typeof v !== 'boolean' && !['On', 'on', 'Off', 'off'].includes(v as string)) {
    throw new ConfigError('xForwarded', v, 'is not true, false, "On", "Off" or "edge"');
  }
  return parseBoolean('xForwarded', v);
}

function validateGlobal(c: BalancerConfig): GlobalSpec {
  const optFn = (field: string, v: unknown): void => {
    if (v !== undefined && typeof v !== 'function') throw new ConfigError(field, v, 'is not a function');
  };
  optFn('onError', c.onError);
  optFn('random', c.random);
  if (c.clock !== undefined && (!isObject(c.clock) || typeof c.clock.now !== 'function')) {
    throw new ConfigError('clock', c.clock, 'is not a Clock ({ now, setTimeout, clearTimeout })');
  }
  if (
    c.store !== undefined &&
    (!isObject(c.store) || typeof c.store.load !== 'function' || typeof c.store.save !== 'function')
  ) {
    throw new ConfigError('store', c.store, 'is not a StateStore ({ load, save })');
  }
  if (c.serverName !== undefined && (typeof c.serverName !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(c.serverName))) {
    throw new ConfigError('serverName', c.serverName, 'is not a host name');
  }
  return {
    engine: parseEngine('engine', c.engine),
    preserveHost: c.preserveHost === undefined ? false : parseBoolean('preserveHost', c.preserveHost),
    serverName: c.serverName ?? os.hostname(),
    xForwarded: parseXForwarded(c.xForwarded),
    replayBufferBytes:
      c.replayBufferBytes === undefined ? 1 << 20 : parseInteger('replayBufferBytes', c.replayBufferBytes, 0, 1 << 30),
    exposeHeaders: c.exposeHeaders === undefined ? false : parseBoolean('exposeHeaders', c.exposeHeaders),
    onError: c.onError,
    keepAliveIdleMs:
      c.keepAliveIdle === undefined ? 4000 : parseDuration('keepAliveIdle', c.keepAliveIdle, 1, 3_600_000),
    bodyTimeoutMs: c.bodyTimeout === undefined ? 30_000 : parseDuration('bodyTimeout', c.bodyTimeout, 1, 3_600_000),
    store: c.store ?? new MemoryStore(),
    storeTimeoutMs: c.storeTimeout === undefined ? 10_000 : parseDuration('storeTimeout', c.storeTimeout, 1, 3_600_000),
    storeStrict: c.storeStrict === undefined ? false : parseBoolean('storeStrict', c.storeStrict),
    clock: c.clock ?? systemClock,
    random: c.random ?? Math.random,
    outlier: validateOutlier('outlier', c.outlier) ?? undefined,
    slowstart: validateSlowStart('slowstart', c.slowstart) ?? undefined,
    notices: new Notices(validateLogger(c.logger)),
    errorHeader: c.errorHeader === undefined ? true : parseBoolean('errorHeader', c.errorHeader),
  };
}

function validateLogger(value: unknown): Logger | false {
  if (value === undefined) return console;
  if (value === false) return false;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    (['warn', 'info', 'error'] as const).every((k) => typeof (value as Partial<Logger>)[k] === 'function');
  if (!ok) throw new ConfigError('logger', value, 'is not a logger ({ warn, info, error }, e.g. console) or false');
  return value as Logger;
}

function validateMount(field: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value) || /\/\.\.?(\/|$)/.test(value)) {
    throw new ConfigError(
      field,
      value,
      'is not an absolute path without query, fragment or dot segments (e.g. "/app")',
    );
  }
  return value;
}

function validateSticky(field: string, value: unknown): StickyNames | undefined {
  if (value === undefined || value === '' || value === '-') return undefined;
  if (typeof value !== 'string') throw new ConfigError(field, value, 'is not a name or "COOKIE|URLPARAM"');
  const parts = value.split('|');
  if (parts.length > 2) throw new ConfigError(field, value, 'has more than one "|" (use "COOKIE|URLPARAM")');
  const cookie = parseToken(field, parts[0]!.trim());
  const param = parseToken(field, (parts[1] ?? parts[0]!).trim());
  if (!cookie || !param) throw new ConfigError(field, value, 'has an empty name (use "COOKIE|URLPARAM")');
  return { cookie, param };
}

function validateSeparator(field: string, value: unknown): string | undefined {
  if (value === undefined) return '.';
  if (value === false || value === 'Off' || value === 'off') return undefined;
  if (typeof value !== 'string' || value.length !== 1 || !/[\x21-\x7e]/.test(value) || value === '=' || value === ';') {
    throw new ConfigError(field, value, 'is not one visible character other than "=" and ";", or false (off)');
  }
  return value;
}

function validateBalancer(path: string, b: BalancerOptions, global: GlobalSpec): BalancerSpec {
  if (!isObject(b)) throw new ConfigError(path, b, 'is not a balancer object');
  checkKeys(path, b, BALANCER_KEYS);
  if (typeof b.name !== 'string' || !/^[A-Za-z0-9._~-]{1,95}$/.test(b.name)) {
    throw new ConfigError(`${path}.name`, b.name, 'is not 1..95 letters, digits or . _ ~ -');
  }
  const lbmethod = b.lbmethod ?? 'byrequests';
  if (typeof lbmethod !== 'string' || !hasScheduler(lbmethod)) {
    throw new ConfigError(
      `${path}.lbmethod`,
      lbmethod,
      `is not a registered scheduler (${listSchedulers().join(', ')})`,
      'ERR_SCHEDULER_UNKNOWN',
    );
  }
  if (!Array.isArray(b.members)) throw new ConfigError(`${path}.members`, b.members, 'is not an array of members');
  const growth = b.growth === undefined ? 0 : parseInteger(`${path}.growth`, b.growth, 0, 1000);
  if (b.members.length === 0 && growth === 0) {
    throw new ConfigError(
      `${path}.members`,
      b.members,
      'is empty (add members, or growth for workers added at run time)',
    );
  }
  const members: MemberSpec[] = [];
  const discovery: DiscoverySpec[] = [];
  const seen = new Set<string>();
  b.members.forEach((m, j) => {
    const field = `${path}.members[${j}]`;
    if (isDiscovered(m)) return void discovery.push(validateDiscovery(field, m, validateMember));
    const spec = validateMember(field, m);
    if (seen.has(spec.name))
      throw new ConfigError(`${field}.url`, m.url, 'is used by another member', 'ERR_CONFIG_DUPLICATE');
    seen.add(spec.name);
    members.push(spec);
  });
  if (b.nonce !== undefined && (typeof b.nonce !== 'string' || !/^[A-Za-z0-9-]{16,64}$/.test(b.nonce))) {
    throw new ConfigError(`${path}.nonce`, '(hidden)', 'is not 16..64 letters, digits or "-"');
  }
  return {
    name: b.name.toLowerCase(),
    mount: validateMount(`${path}.mount`, b.mount),
    path: b.path === undefined ? '/' : validateMount(`${path}.path`, b.path),
    lbmethod,
    maxattempts: b.maxattempts === undefined ? undefined : parseInteger(`${path}.maxattempts`, b.maxattempts, 0, 99),
    nofailover: b.nofailover === undefined ? false : parseBoolean(`${path}.nofailover`, b.nofailover),
    sticky: validateSticky(`${path}.stickysession`, b.stickysession),
    stickysessionsep: validateSeparator(`${path}.stickysessionsep`, b.stickysessionsep),
    scolonpathdelim:
      b.scolonpathdelim === undefined ? false : parseBoolean(`${path}.scolonpathdelim`, b.scolonpathdelim),
    engine: parseEngine(`${path}.engine`, b.engine, global.engine),
    timeoutMs: b.timeout === undefined ? 0 : parseDuration(`${path}.timeout`, b.timeout, 0, 7_200_000),
    failonstatus: b.failonstatus === undefined ? new Set() : parseStatusList(`${path}.failonstatus`, b.failonstatus),
    failontimeout: b.failontimeout === undefined ? false : parseBoolean(`${path}.failontimeout`, b.failontimeout),
    forcerecovery: b.forcerecovery === undefined ? true : parseBoolean(`${path}.forcerecovery`, b.forcerecovery),
    growth,
    nonce: b.nonce,
    routecookie: validateRouteCookie(`${path}.routecookie`, b),
    proxypassreverse:
      b.proxypassreverse === undefined ? false : parseBoolean(`${path}.proxypassreverse`, b.proxypassreverse),
    maxupgrades:
      b.maxupgrades === undefined ? Infinity : parseInteger(`${path}.maxupgrades`, b.maxupgrades, 0, 10_000_000),
    ...validateRetry(path, b),
    ...validateSchedulerSettings(path, b),
    members,
    discovery,
  };
}

function validateRetry(
  path: string,
  b: BalancerOptions,
): Pick<BalancerSpec, 'retryon' | 'replay' | 'retrybudget' | 'queue'> {
  const retryon = parseOneOf(`${path}.retryon`, b.retryon ?? 'connect', ['connect', 'idempotent'] as const);
  if (b.replay !== undefined && typeof b.replay !== 'function')
    throw new ConfigError(`${path}.replay`, b.replay, 'is not a function');
  const budget = b.retrybudget ?? {};
  if (!isObject(budget)) throw new ConfigError(`${path}.retrybudget`, budget, 'is not { percent, min }');
  checkKeys(`${path}.retrybudget`, budget, new Set(['percent', 'min']));
  const queue = b.queue ?? {};
  if (!isObject(queue)) throw new ConfigError(`${path}.queue`, queue, 'is not { size, timeout }');
  checkKeys(`${path}.queue`, queue, new Set(['size', 'timeout']));
  const fallbackWait = b.timeout === undefined ? 0 : parseDuration(`${path}.timeout`, b.timeout, 0, 7_200_000);
  return {
    retryon,
    replay: b.replay,
    retrybudget: {
      percent: budget.percent === undefined ? 20 : parseInteger(`${path}.retrybudget.percent`, budget.percent, 0, 100),
      min: budget.min === undefined ? 3 : parseInteger(`${path}.retrybudget.min`, budget.min, 0, 100_000),
    },
    queue: {
      size: queue.size === undefined ? 1024 : parseInteger(`${path}.queue.size`, queue.size, 0, 1_000_000),
      timeoutMs:
        queue.timeout === undefined
          ? fallbackWait || 30_000
          : parseDuration(`${path}.queue.timeout`, queue.timeout, 0, 7_200_000),
    },
  };
}

const ROUTE_COOKIE_KEYS = new Set(['name', 'path', 'domain', 'maxAge', 'httpOnly', 'secure', 'sameSite', 'secret']);

function validateRouteCookie(field: string, b: BalancerOptions): RouteCookieSpec | undefined {
  const rc = b.routecookie;
  if (rc === undefined || rc === false) return undefined;
  const o: RouteCookieOptions = rc === true ? {} : rc;
  if (!isObject(rc === true ? {} : rc)) throw new ConfigError(field, rc, 'is not true or a route cookie object');
  checkKeys(field, o as Record<string, unknown>, ROUTE_COOKIE_KEYS);
  // Never defaults to the stickysession name: that is usually the app's own session cookie.
  const name = o.name === undefined ? 'ROUTEID' : parseToken(`${field}.name`, o.name);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))
    throw new ConfigError(`${field}.name`, name, 'is not a cookie name');
  const secrets = o.secret === undefined ? [] : Array.isArray(o.secret) ? o.secret : [o.secret];
  secrets.forEach((s, i) => {
    if (typeof s !== 'string' || s.length < 16) {
      throw new ConfigError(
        `${field}.secret${Array.isArray(o.secret) ? `[${i}]` : ''}`,
        '(hidden)',
        'is not a string of at least 16 characters',
      );
    }
  });
  if (
    secrets.length > 0 &&
    (b.stickysessionsep === false || b.stickysessionsep === 'Off' || b.stickysessionsep === 'off')
  ) {
    throw new ConfigError(`${field}.secret`, '(hidden)', 'needs a stickysessionsep (the signature goes before it)');
  }
  const sameSite = parseOneOf(`${field}.sameSite`, o.sameSite ?? 'Lax', ['Strict', 'Lax', 'None'] as const);
  const str = (k: 'path' | 'domain', v: unknown): string => {
    if (typeof v !== 'string' || !/^[\x21-\x3a\x3c-\x7e]+$/.test(v))
      throw new ConfigError(`${field}.${k}`, v, 'is not a cookie attribute value');
    return v;
  };
  return {
    name,
    path: o.path === undefined ? '/' : str('path', o.path),
    domain: o.domain === undefined ? undefined : str('domain', o.domain),
    maxAge:
      o.maxAge === undefined
        ? undefined
        : Math.floor(parseDuration(`${field}.maxAge`, o.maxAge, 0, 400 * 86_400_000) / 1000),
    httpOnly: o.httpOnly === undefined ? true : parseBoolean(`${field}.httpOnly`, o.httpOnly),
    secure: o.secure === undefined ? sameSite === 'None' : parseBoolean(`${field}.secure`, o.secure),
    sameSite: sameSite.toLowerCase() as RouteCookieSpec['sameSite'],
    keys: secrets.map((s) => Buffer.from(s)),
  };
}

/** Validates one member; also used by the manager when a worker is added at run time. */
export function validateMember(path: string, m: MemberOptions): MemberSpec {
  if (!isObject(m)) throw new ConfigError(path, m, 'is not a member object with a url');
  checkKeys(path, m, MEMBER_KEYS);
  const url = parseWorkerUrl(`${path}.url`, m.url);
  const basePath = url.pathname.replace(/\/+$/, '');
  const timeoutMs = m.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(`${path}.timeout`, m.timeout, 1);
  if (m.tls !== undefined && (!isObject(m.tls) || url.protocol !== 'https:')) {
    throw new ConfigError(`${path}.tls`, m.tls, 'is only for https:// members and must be an object');
  }
  return {
    name: `${url.protocol}//${url.host}${basePath}`,
    url,
    basePath,
    lbfactor: m.loadfactor === undefined ? 100 : parseLoadfactor(`${path}.loadfactor`, m.loadfactor),
    lbset: m.lbset === undefined ? 0 : parseInteger(`${path}.lbset`, m.lbset, 0, 99),
    route: m.route === undefined ? '' : parseToken(`${path}.route`, m.route),
    redirect: m.redirect === undefined ? '' : parseToken(`${path}.redirect`, m.redirect),
    retryMs: m.retry === undefined ? DEFAULT_RETRY_MS : parseDuration(`${path}.retry`, m.retry, 0),
    status: m.status === undefined ? 0 : parseStatus(`${path}.status`, m.status),
    connectTimeoutMs:
      m.connectiontimeout === undefined
        ? Math.min(timeoutMs, 10_000)
        : parseDuration(`${path}.connectiontimeout`, m.connectiontimeout, 1),
    timeoutMs,
    max: m.max === undefined ? DEFAULT_MAX_SOCKETS : parseInteger(`${path}.max`, m.max, 1, 65_535),
    maxupgrades:
      m.maxupgrades === undefined
        ? DEFAULT_MAX_UPGRADES
        : parseInteger(`${path}.maxupgrades`, m.maxupgrades, 0, 1_000_000),
    tls: m.tls,
    health: validateHealthCheck(path, m, basePath),
  };
}

function parseWorkerUrl(field: string, value: unknown): URL {
  const hint = schemeHint(value);
  if (hint) throw new ConfigError(field, value, `is not an absolute http:// or https:// URL${hint}`);
  let url: URL;
  try {
    if (typeof value !== 'string') throw new TypeError();
    url = new URL(value);
  } catch {
    throw new ConfigError(field, value, 'is not an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      field,
      value,
      'is not an http:// or https:// URL (other schemes are refused, cf. CVE-2021-40438)',
    );
  }
  if (url.username || url.password || url.search || url.hash || !url.hostname) {
    throw new ConfigError(field, value, 'must be scheme://host[:port][/base] without credentials, query or fragment');
  }
  return url;
}

/** "10.0.0.1:8080" and "localhost:8080" lack a scheme (the second even parses as one, "localhost:"). */
function schemeHint(value: unknown): string {
  if (typeof value !== 'string' || value.includes('://') || !/^[\w[]/.test(value)) return '';
  try {
    new URL(`http://${value}`);
    return `: add http:// (e.g. "http://${value}")`;
  } catch {
    return '';
  }
}
