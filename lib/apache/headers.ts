/**
 * mod_headers lines that carry balancer state: the route-cookie recipe
 * (Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED)
 * and headers made of %{BALANCER_*}e variables, which our exposeHeaders sends under fixed names.
 */
import type { RouteCookieOptions } from '../config/options.js';

/** The header exposeHeaders sends for each of Apache's balancer variables. */
export const CONTEXT_HEADERS: Readonly<Record<string, string>> = {
  BALANCER_NAME: 'X-Balancer-Name',
  BALANCER_WORKER_NAME: 'X-Balancer-Worker-Name',
  BALANCER_WORKER_ROUTE: 'X-Balancer-Worker-Route',
  BALANCER_ROUTE_CHANGED: 'X-Balancer-Route-Changed',
  BALANCER_SESSION_STICKY: 'X-Balancer-Session-Sticky',
  BALANCER_SESSION_ROUTE: 'X-Balancer-Session-Route',
};

export type HeaderMeaning =
  | { kind: 'none' }
  | { kind: 'route-cookie'; cookie: RouteCookieOptions; note?: string }
  | { kind: 'context'; note?: string };

const ACTIONS = new Set(['add', 'append', 'set', 'setifempty', 'merge']);
const RECIPE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)=(\.?)%\{BALANCER_WORKER_ROUTE\}e\s*((?:;.*)?)$/;

function cookieAttributes(attrs: string): { cookie: RouteCookieOptions; unknown: string[] } {
  const cookie: RouteCookieOptions = { httpOnly: false, sameSite: 'Lax' };
  const unknown: string[] = [];
  for (const part of attrs
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [k, v = ''] = part.split('=', 2).map((s) => s.trim()) as [string, string?];
    const key = k.toLowerCase();
    if (key === 'path') cookie.path = v;
    else if (key === 'domain') cookie.domain = v;
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'httponly') cookie.httpOnly = true;
    else if (key === 'max-age' && /^\d+$/.test(v)) cookie.maxAge = `${v}s`;
    else if (key === 'samesite' && /^(strict|lax|none)$/i.test(v)) {
      cookie.sameSite = (v[0]!.toUpperCase() + v.slice(1).toLowerCase()) as RouteCookieOptions['sameSite'];
    } else unknown.push(part);
  }
  return { cookie, unknown };
}

/** What one `Header` directive means to the balancer. */
export function headerMeaning(args: readonly string[]): HeaderMeaning {
  const words = /^(always|onsuccess)$/i.test(args[0] ?? '') ? args.slice(1) : args;
  const [action = '', name = '', value = ''] = words;
  if (!ACTIONS.has(action.toLowerCase()) || !value.includes('%{BALANCER_')) return { kind: 'none' };
  if (name.toLowerCase() === 'set-cookie') {
    const m = RECIPE.exec(value);
    if (!m)
      return {
        kind: 'context',
        note: `Set-Cookie "${value}" is not the route-cookie recipe (NAME=.%{BALANCER_WORKER_ROUTE}e; path=…)`,
      };
    const { cookie, unknown } = cookieAttributes(m[3]!);
    const note = unknown.length
      ? `cookie attribute${unknown.length > 1 ? 's' : ''} ${unknown.join('; ')} not carried over`
      : undefined;
    return { kind: 'route-cookie', cookie: { name: m[1]!, ...cookie }, ...(note && { note }) };
  }
  const exact = /^%\{(BALANCER_[A-Z_]+)\}e$/.exec(value);
  const ours = exact ? CONTEXT_HEADERS[exact[1]!] : undefined;
  if (ours?.toLowerCase() === name.toLowerCase()) return { kind: 'context' };
  return {
    kind: 'context',
    note: `${name}: "${value}" is sent as the fixed X-Balancer-* headers (exposeHeaders), not under this name or format`,
  };
}
