import { ConfigError } from '../errors.js';
import { parseDuration, parseInteger } from './parse.js';
import type { BalancerOptions } from './options.js';

/** Where the hash scheduler finds a request's key. */
export type HashKeySpec = { kind: 'ip' | 'path' | 'uri' } | { kind: 'header' | 'cookie' | 'query'; name: string };

/** The scheduler settings of one balancer, validated. */
export interface SchedulerSettingsSpec {
  hashkey: HashKeySpec;
  hashbalancefactor: number;
  p2cbias: number;
  ewmadecayMs: number;
  panic: number;
}

/** What the options say, as the user writes them. */
type SchedulerSettingsOptions = Pick<
  BalancerOptions,
  'hashkey' | 'hashbalancefactor' | 'p2cbias' | 'ewmadecay' | 'panic'
>;

const NAMED = /^(header|cookie|query):([\x21-\x7e]{1,64})$/;
const HASHKEY_ALLOWED = 'is not "ip", "path", "uri", "header:NAME", "cookie:NAME" or "query:NAME"';

export function parseHashKey(field: string, value: unknown): HashKeySpec {
  if (value === 'ip' || value === 'path' || value === 'uri') return { kind: value };
  const m = typeof value === 'string' ? NAMED.exec(value) : null;
  if (!m) throw new ConfigError(field, value, HASHKEY_ALLOWED);
  const kind = m[1] as 'header' | 'cookie' | 'query';
  const name = m[2]!;
  // Header names are tokens (RFC 9110 §5.1), compared case-insensitively.
  if (kind === 'header' && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new ConfigError(field, value, 'names a header that is not a token');
  }
  return { kind, name: kind === 'header' ? name.toLowerCase() : name };
}

/** The hashkey back as written ("header:x-user"), for the manager and snapshots. */
export function hashKeyText(k: HashKeySpec): string {
  return 'name' in k ? `${k.kind}:${k.name}` : k.kind;
}

/** 0 (no bound), or 100..10000 percent: below 100 the bounds could not hold every request. */
export function parseBalanceFactor(field: string, value: unknown): number {
  const n = parseInteger(field, value, 0, 10_000);
  if (n !== 0 && n < 100) throw new ConfigError(field, value, 'is not 0 (no bound) or an integer in 100..10000');
  return n;
}

export function parseBias(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 10) {
    throw new ConfigError(field, value, 'is not a number in 0..10');
  }
  return value;
}

export function parsePanic(field: string, value: unknown): number {
  return parseInteger(field, value, 0, 100);
}

export function validateSchedulerSettings(path: string, b: SchedulerSettingsOptions): SchedulerSettingsSpec {
  return {
    hashkey: b.hashkey === undefined ? { kind: 'ip' } : parseHashKey(`${path}.hashkey`, b.hashkey),
    hashbalancefactor:
      b.hashbalancefactor === undefined ? 125 : parseBalanceFactor(`${path}.hashbalancefactor`, b.hashbalancefactor),
    p2cbias: b.p2cbias === undefined ? 1 : parseBias(`${path}.p2cbias`, b.p2cbias),
    ewmadecayMs: b.ewmadecay === undefined ? 10_000 : parseDuration(`${path}.ewmadecay`, b.ewmadecay, 1, 3_600_000),
    panic: b.panic === undefined ? 0 : parsePanic(`${path}.panic`, b.panic),
  };
}
