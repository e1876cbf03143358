import { parseCookie } from 'cookie';
import { signedRoute, verifyRouteValue, type RouteCookieSpec } from './route-cookie.js';

/** What the resolver needs to know; a Balancer satisfies it. */
export interface StickyOptions {
  sticky: { cookie: string; param: string } | undefined;
  /** undefined = off: the whole value is the route. */
  stickysessionsep: string | undefined;
  scolonpathdelim: boolean;
  /** The balancer-set route cookie, if any: read too, and its signature checked. */
  routecookie?: RouteCookieSpec | undefined;
  /** Balancer id the route cookie is signed for ("balancer://name"). */
  id?: string;
}

/** A session value found on the request (BALANCER_SESSION_STICKY / _ROUTE). */
export interface StickyHit {
  /** The cookie or parameter name it came from. */
  sticky: string;
  /** Text after the first separator; "" means "found but empty": exported, never routed. */
  route: string;
  source: 'path' | 'query' | 'cookie';
}

const keepRaw = (s: string): string => s;

/**
 * The route resolver. Looks for the session value in the URL first (a `;name=value` path
 * parameter, then a `name=value` query parameter), then in the Cookie header. Names match
 * exactly and only at parameter and cookie boundaries; Apache's substring search (which lets
 * `?xjsessionid=` or `userid=` match) is deliberately not copied. A value without the separator
 * is not sticky (Apache); the route is the text after the first separator, or for a signed route
 * cookie the text after the signature and its separator.
 */
export function resolveSticky(
  url: string,
  cookieHeader: string | undefined,
  opts: StickyOptions,
): StickyHit | undefined {
  const rc = opts.routecookie;
  const names = opts.sticky ?? (rc ? { cookie: rc.name, param: rc.name } : undefined);
  if (!names) return undefined;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  let source: StickyHit['source'] = 'path';
  let value = checked(opts, names.param, findPathParam(path, names.param, opts.scolonpathdelim));
  if (value === undefined && q !== -1) {
    value = checked(opts, names.param, findQueryParam(url.slice(q + 1), names.param, opts.scolonpathdelim));
    source = 'query';
  }
  let sticky = names.param;
  if (value === undefined && cookieHeader !== undefined) {
    source = 'cookie';
    sticky = names.cookie;
    value = checked(opts, names.cookie, findCookie(cookieHeader, names.cookie));
    if (value === undefined && rc && rc.name !== names.cookie) {
      sticky = rc.name;
      value = checked(opts, rc.name, findCookie(cookieHeader, rc.name));
    }
  }
  if (value === undefined || value === '') return undefined;
  const sep = opts.stickysessionsep;
  if (sep === undefined) return { sticky, route: value, source };
  if (isSigned(opts, sticky)) return { sticky, route: signedRoute(value, sep), source };
  const at = value.indexOf(sep);
  if (at === -1) return undefined;
  return { sticky, route: value.slice(at + 1), source };
}

/** Values under the route cookie's name must carry a valid signature when keys are configured. */
function isSigned(opts: StickyOptions, name: string): boolean {
  const rc = opts.routecookie;
  return rc?.name === name && rc.keys.length > 0;
}

function checked(opts: StickyOptions, name: string, value: string | undefined): string | undefined {
  if (value === undefined || !isSigned(opts, name)) return value;
  return verifyRouteValue(opts.routecookie!, opts.id ?? '', opts.stickysessionsep ?? '.', value);
}

/** `;name=value` in any path segment; the value ends at "/", "&" (Apache) or, with scolon, ";". */
function findPathParam(path: string, name: string, scolon: boolean): string | undefined {
  const needle = `;${name}=`;
  let from = path.indexOf(needle);
  while (from !== -1) {
    const start = from + needle.length;
    let end = start;
    while (end < path.length) {
      const ch = path.charCodeAt(end);
      if (ch === 0x2f /* / */ || ch === 0x26 /* & */ || (scolon && ch === 0x3b) /* ; */) break;
      end++;
    }
    if (end > start) return path.slice(start, end);
    from = path.indexOf(needle, start);
  }
  return undefined;
}

/** `name=value` as a whole query parameter (split on "&", and ";" with scolon). */
function findQueryParam(query: string, name: string, scolon: boolean): string | undefined {
  if (!query.includes(name)) return undefined;
  for (const pair of query.split(scolon ? /[&;]/ : '&')) {
    if (pair.length > name.length && pair.startsWith(name) && pair.charCodeAt(name.length) === 0x3d /* = */) {
      const value = pair.slice(name.length + 1);
      if (value !== '') return value;
    }
  }
  return undefined;
}

/** First cookie of that exact name; raw value (not percent-decoded, quotes kept, like Apache). */
function findCookie(header: string, name: string): string | undefined {
  if (!header.includes(name)) return undefined;
  try {
    // Apache also takes "," as a cookie separator (RFC 2965 style headers).
    return parseCookie(header.includes(',') ? header.replaceAll(',', ';') : header, { decode: keepRaw })[name];
  } catch {
    return undefined; // a malformed Cookie header is ignored, never a 500
  }
}
