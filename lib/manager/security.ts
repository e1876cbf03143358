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
  if (typeof host !== 'string' || host === '') return undefined;
  return hostOf(`${scheme}//${host}`)?.host;
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

/** A fresh CSP nonce for this response's <style> element. */
export function styleNonce(): string {
  return randomBytes(16).toString('base64');
}

/** Headers on every manager response; the page loads nothing, frames nothing, posts only to itself. */
export function setSecurityHeaders(res: ServerResponse, cspStyleNonce?: string): void {
  const style = cspStyleNonce ? `style-src 'nonce-${cspStyleNonce}'` : "style-src 'none'";
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; ${style}; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}
