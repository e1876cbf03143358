import { Resolver } from 'node:dns';
import { ConfigError } from '../errors.js';
import type { DiscoveredMemberOptions, MemberOptions } from './options.js';
import type { DiscoverySpec, MemberSpec } from './spec.js';
import { parseDuration, parseInteger, parseOneOf } from './parse.js';

const DEFAULT_REFRESH_MS = 30_000;
const DEFAULT_GRACE_MS = 60_000;
/** Enough for any real setup; more would only be a typo or a hostile list. */
const MAX_SERVERS = 16;
const DNS_NAME =
  /^(?=.{1,253}\.?$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** True for a member that names a DNS group rather than a URL. */
export function isDiscovered(m: unknown): m is DiscoveredMemberOptions {
  return typeof m === 'object' && m !== null && 'discover' in m;
}

/**
 * Validates a discovered member. `memberOf` validates the member options it applies to every worker
 * (the field paths stay the member's own); `route` and `url` come from each address instead.
 */
export function validateDiscovery(
  path: string,
  m: DiscoveredMemberOptions,
  memberOf: (path: string, m: MemberOptions) => MemberSpec,
): DiscoverySpec {
  const kind = parseOneOf(`${path}.discover`, m.discover, ['dns', 'srv'] as const);
  if (typeof m.name !== 'string' || !DNS_NAME.test(m.name)) {
    throw new ConfigError(`${path}.name`, m.name, 'is not a DNS name (labels of letters, digits, "-" or "_")');
  }
  if ('url' in m) throw new ConfigError(`${path}.url`, (m as { url: unknown }).url, 'is not for a discovered member');
  if ('route' in m) {
    const v = (m as { route: unknown }).route;
    throw new ConfigError(`${path}.route`, v, 'is derived from each address of a discovered member');
  }
  let port: number | undefined;
  if (kind === 'dns') port = parseInteger(`${path}.port`, m.port, 1, 65_535);
  else if (m.port !== undefined) throw new ConfigError(`${path}.port`, m.port, 'is given by the SRV records');
  if (kind === 'srv' && m.loadfactor !== undefined) {
    throw new ConfigError(`${path}.loadfactor`, m.loadfactor, 'is given by the SRV weights');
  }
  const scheme = parseOneOf(`${path}.scheme`, m.scheme ?? 'http', ['http', 'https'] as const);
  const family: unknown = m.family ?? 0;
  if (family !== 0 && family !== 4 && family !== 6) throw new ConfigError(`${path}.family`, family, 'is not 0, 4 or 6');
  const { discover: _d, name: _n, port: _p, scheme: _s, family: _f, refresh, servers, grace, ...member } = m;
  const template = memberOf(path, { ...member, url: `${scheme}://discovered.invalid:${port ?? 1}` });
  return {
    field: path,
    kind,
    name: m.name,
    port,
    scheme,
    family,
    refreshMs: refresh === undefined ? DEFAULT_REFRESH_MS : parseDuration(`${path}.refresh`, refresh, 10, 86_400_000),
    graceMs: grace === undefined ? DEFAULT_GRACE_MS : parseDuration(`${path}.grace`, grace, 0, 86_400_000),
    servers: servers === undefined ? undefined : validateServers(`${path}.servers`, servers),
    template,
  };
}

function validateServers(field: string, value: unknown): string[] {
  const ok = Array.isArray(value) && value.length > 0 && value.length <= MAX_SERVERS;
  if (!ok || !value.every((s) => typeof s === 'string')) {
    throw new ConfigError(field, value, `is not a list of 1..${MAX_SERVERS} DNS server addresses`);
  }
  try {
    // Node's own parser decides what a resolver accepts; a throw-away resolver checks the list.
    new Resolver().setServers(value);
  } catch {
    throw new ConfigError(field, value, 'is not a list of IP addresses with optional ports ("127.0.0.1:5353")');
  }
  return value;
}
