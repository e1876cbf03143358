import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { stringifySetCookie } from 'cookie';

/** The balancer-set route cookie, after validation. */
export interface RouteCookieSpec {
  name: string;
  path: string;
  domain: string | undefined;
  /** Max-Age in seconds; undefined = a session cookie. */
  maxAge: number | undefined;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'strict' | 'lax' | 'none';
  /** The first key signs; every key verifies (rotation). Empty = unsigned, Apache-recipe format. */
  keys: Buffer[];
}

const SIG_LENGTH = 22; // base64url characters: 132 bits of HMAC-SHA256

// Node 24 turns a Buffer key into a KeyObject on every createHmac (about 7x the cost of the HMAC
// itself), so each key is turned into one once.
const keyObjects = new WeakMap<Buffer, KeyObject>();

function sign(key: Buffer, balancerId: string, route: string): string {
  let k = keyObjects.get(key);
  if (k === undefined) keyObjects.set(key, (k = createSecretKey(key)));
  return createHmac('sha256', k).update(`${balancerId}\0${route}`).digest('base64url').slice(0, SIG_LENGTH);
}

/**
 * The cookie value for `route`. Unsigned it is Apache's recipe, `.route`, so existing cookies keep
 * working; signed it is `signature.route`: the signature takes the place of the session id. The
 * signature is base64url and may hold the separator itself, so a signed value is read by length
 * (signedRoute), never at a separator.
 */
export function routeCookieValue(spec: RouteCookieSpec, balancerId: string, sep: string, route: string): string {
  const first = spec.keys[0];
  return `${first ? sign(first, balancerId, route) : ''}${sep}${route}`;
}

export function routeSetCookie(spec: RouteCookieSpec, balancerId: string, sep: string, route: string): string {
  return stringifySetCookie({
    name: spec.name,
    value: routeCookieValue(spec, balancerId, sep, route),
    path: spec.path,
    ...(spec.domain !== undefined && { domain: spec.domain }),
    ...(spec.maxAge !== undefined && { maxAge: spec.maxAge }),
    httpOnly: spec.httpOnly,
    secure: spec.secure,
    sameSite: spec.sameSite,
  });
}

/** The route of a verified signed value: what follows the signature and the separator. */
export function signedRoute(value: string, sep: string): string {
  return value.slice(SIG_LENGTH + sep.length);
}

/**
 * Checks a signed value; returns it percent-decoded when any key's signature matches, else
 * undefined (a forged or stale cookie is treated as no route, never as an error).
 */
export function verifyRouteValue(
  spec: RouteCookieSpec,
  balancerId: string,
  sep: string,
  raw: string,
): string | undefined {
  if (spec.keys.length === 0) return raw;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (!value.startsWith(sep, SIG_LENGTH)) return undefined;
  const given = Buffer.from(value.slice(0, SIG_LENGTH));
  const route = signedRoute(value, sep);
  for (const key of spec.keys) {
    const expected = Buffer.from(sign(key, balancerId, route));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return value;
  }
  return undefined;
}
