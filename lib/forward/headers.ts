import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 connection-specific headers, plus the ones a proxy must not pass on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-authorization',
  'proxy-authenticate',
]);

/**
 * Headers a client may not remove by naming them in `Connection` (CVE-2022-31813: Apache let
 * `Connection: X-Forwarded-For` strip the forwarding headers), and the framing headers.
 */
const PROTECTED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-server',
  'forwarded',
]);

/** Connection values that name no header beyond the hop-by-hop ones (the common case). */
const PLAIN_CONNECTION = new Set(['keep-alive', 'close', 'Keep-Alive', 'Close', 'upgrade', 'Upgrade']);

function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined || (typeof value === 'string' && PLAIN_CONNECTION.has(value))) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

function append(existing: string | string[] | undefined, value: string): string {
  if (existing === undefined || existing === '') return value;
  return `${Array.isArray(existing) ? existing.join(', ') : existing}, ${value}`;
}

/** The client address as Apache logs it ("127.0.0.1", not "::ffff:127.0.0.1"). */
export function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export interface OutgoingHeaderOptions {
  /** Worker host[:port] for the Host header, or undefined to keep the client's. */
  host: string | undefined;
  xForwarded: boolean;
  serverName: string;
  /** An Upgrade (WebSocket) handshake: keep `Upgrade` and send `Connection: Upgrade`. */
  upgrade?: boolean;
}

/** The headers sent to a worker: a copy of the client's, cleaned and extended like mod_proxy does. */
export function outgoingHeaders(req: IncomingMessage, opts: OutgoingHeaderOptions): IncomingHttpHeaders {
  const src = req.headers;
  const out: IncomingHttpHeaders = {};
  const tokens = connectionTokens(src.connection);
  const drop = tokens.length > 0 ? new Set(tokens) : undefined;
  for (const key of Object.keys(src)) {
    if (HOP_BY_HOP.has(key) || (drop?.has(key) && !PROTECTED.has(key))) continue;
    out[key] = src[key];
  }
  if (opts.xForwarded) {
    out['x-forwarded-for'] = append(src['x-forwarded-for'], clientAddress(req));
    if (src.host !== undefined) out['x-forwarded-host'] = append(src['x-forwarded-host'], src.host);
    out['x-forwarded-server'] = append(src['x-forwarded-server'], opts.serverName);
  }
  if (opts.host !== undefined) out.host = opts.host;
  if (opts.upgrade && src.upgrade !== undefined) {
    out.connection = 'Upgrade';
    out.upgrade = src.upgrade;
  }
  return out;
}

/**
 * The worker's response headers for writeHead, original case kept, repeated names (Set-Cookie)
 * kept as arrays, connection-specific ones removed (Node frames the client response itself), and
 * `extra` ([name, value, …]) appended after the worker's. An object, not a flat list: once anything
 * set a header earlier (Express sets X-Powered-By), Node 20's writeHead applies a flat list with
 * setHeader pair by pair, so the last of several Set-Cookie lines would win.
 */
export function responseHeaders(rawHeaders: readonly string[], extra: readonly string[]): OutgoingHttpHeaders {
  let drop: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      for (const t of connectionTokens(rawHeaders[i + 1])) (drop ??= new Set()).add(t);
    }
  }
  const out: OutgoingHttpHeaders = {};
  const names = new Map<string, string>();
  const add = (name: string, value: string): void => {
    const lower = name.toLowerCase();
    const key = names.get(lower);
    if (key === undefined) {
      names.set(lower, name);
      out[name] = lower === 'set-cookie' ? [value] : value;
      return;
    }
    const prev = out[key];
    out[key] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  };
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    if (lower === 'transfer-encoding' || HOP_BY_HOP.has(lower) || drop?.has(lower)) continue;
    add(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  for (let i = 0; i < extra.length; i += 2) add(extra[i]!, extra[i + 1]!);
  return out;
}
