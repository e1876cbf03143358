import type { IncomingMessage } from 'node:http';
import { parseCookie } from 'cookie';
import type { HashKeySpec } from '../config/scheduler-options.js';

/** The built-in schedulers that never read a hash key: no key is computed for them. */
const KEYLESS = new Set(['byrequests', 'bytraffic', 'bybusyness', 'p2c', 'ewma']);

/**
 * The request's key for the hash scheduler (and any registered one that reads it), as the balancer's
 * `hashkey` says; undefined when the request has none (the scheduler then balances by p2c). `url` is
 * the client's request target (path and query).
 */
export function hashKeyOf(
  lbmethod: string,
  spec: HashKeySpec,
  req: IncomingMessage,
  url: string,
  cookie: string | undefined,
): string | undefined {
  if (KEYLESS.has(lbmethod)) return undefined;
  switch (spec.kind) {
    case 'ip':
      return req.socket.remoteAddress;
    case 'path':
      return url.split('?', 1)[0];
    case 'uri':
      return url;
    case 'header':
      return nonEmpty(req.headers[spec.name]);
    case 'cookie':
      return !cookie?.includes(spec.name) ? undefined : cookieValue(cookie, spec.name);
    case 'query':
      return queryValue(url, spec.name);
  }
}

function nonEmpty(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s === undefined || s === '' ? undefined : s;
}

function cookieValue(header: string, name: string): string | undefined {
  try {
    return nonEmpty(parseCookie(header)[name]);
  } catch {
    return undefined; // a malformed Cookie header has no key, never a 500
  }
}

function queryValue(url: string, name: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  try {
    return nonEmpty(new URLSearchParams(url.slice(q + 1)).get(name) ?? undefined);
  } catch {
    return undefined;
  }
}
