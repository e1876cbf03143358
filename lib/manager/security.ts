import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time nonce check: both sides are hashed first, so their lengths never leak either. */
export function nonceMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given === '' || expected === '') return false;
  return timingSafeEqual(digest(expected), digest(given));
}

/** "host[:port]" of an origin or URL as a browser sends it, default ports dropped; undefined if unparsable. */
function hostOf(url: string): { scheme: string; host: string } | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return { scheme: u.protocol, host: u.host.toLowerCase() };
  } catch {
    return undefined;
  }
}

/** The request's Host header in the same form, read with the scheme the browser claims. */
function requestHost(req: IncomingMessage, scheme: string): string | undefined {
  const host = req.headers.host;
  if (typeof host !== 'string' || parseHost(host) === undefined) return undefined;
  return hostOf(`${scheme}//${host}`)?.host;
}

/** A Host header value or an allowedHosts entry: a name or address, lower-cased, and its port if any. */
export interface HostName {
  name: string;
  port: string | undefined;
}

/** Exactly `host[:port]`: a name of letters, digits, ".", "-", "_", or an IPv4 or [IPv6] address. */
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i;

/** Parses `host[:port]`; anything else (a path, userinfo, a second colon, a port above 65535) is undefined. */
export function parseHost(value: string): HostName | undefined {
  const m = HOST_PORT.exec(value);
  if (!m || (m[2] !== undefined && Number(m[2]) > 65_535)) return undefined;
  return { name: m[1]!.toLowerCase(), port: m[2] };
}

/** Loopback names a browser on this machine uses; DNS rebinding needs a name an attacker controls. */
const LOOPBACK: readonly HostName[] = ['localhost', '127.0.0.1', '[::1]'].map((name) => ({ name, port: undefined }));

/** The address the connection arrived on, as a Host header names it ("::ffff:10.0.0.1" is 10.0.0.1). */
function localHost(req: IncomingMessage): HostName | undefined {
  const a = req.socket.localAddress;
  if (a === undefined || a === '') return undefined;
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  const name = v4 ? v4[1]! : a.includes(':') ? `[${a.toLowerCase()}]` : a;
  return { name, port: undefined };
}

const matches = (h: HostName, p: HostName): boolean => h.name === p.name && (p.port === undefined || h.port === p.port);

/**
 * Why the request's Host is refused, or undefined when it is allowed: a loopback name, the address
 * the connection arrived on, or one of `allowed` (an entry without a port allows any port).
 */
export function hostRefusal(req: IncomingMessage, allowed: readonly HostName[]): string | undefined {
  const raw = req.headers.host;
  if (typeof raw !== 'string' || raw === '') return 'the request has no Host header';
  const shown = JSON.stringify(raw.length > 255 ? `${raw.slice(0, 255)}…` : raw);
  const host = parseHost(raw);
  if (!host) return `Host ${shown} is not host[:port]`;
  const local = localHost(req);
  if (
    LOOPBACK.some((p) => matches(host, p)) ||
    (local && matches(host, local)) ||
    allowed.some((p) => matches(host, p))
  )
    return undefined;
  return `Host ${shown} is not an allowed host of the balancer-manager (add it to managerRouter's allowedHosts)`;
}

/**
 * CSRF defence next to the nonce: the change must come from a page of this host. Origin when the
 * browser sends one (every modern browser does on POST), else Referer; with neither, refused.
 * `allowed` lists further trusted origins (e.g. an admin host in front of a proxy).
 */
export function sameOrigin(req: IncomingMessage, allowed: readonly string[] = []): boolean {
  const origin = req.headers.origin;
  const referer = req.headers.referer;
  const claimed = typeof origin === 'string' && origin !== '' ? origin : typeof referer === 'string' ? referer : '';
  if (claimed === '' || claimed === 'null') return false;
  const from = hostOf(claimed);
  if (!from) return false;
  if (allowed.some((a) => hostOf(a)?.host === from.host && hostOf(a)?.scheme === from.scheme)) return true;
  return requestHost(req, from.scheme) === from.host;
}

/** A fresh CSP nonce for this response's <style> and <script> elements. */
export function styleNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Headers on every manager response; the page loads nothing, frames nothing, posts only to itself. */
export function setSecurityHeaders(res: ServerResponse, cspStyleNonce?: string): void {
  // The page's one <style> and one <script> carry the nonce; the script reads the live view from here.
  const own = cspStyleNonce
    ? `style-src 'nonce-${cspStyleNonce}'; script-src 'nonce-${cspStyleNonce}'; connect-src 'self'`
    : "style-src 'none'";
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; ${own}; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}
