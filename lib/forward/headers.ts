import { ServerResponse } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

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

const NO_TOKENS: readonly string[] = Object.freeze([]);

function connectionTokens(value: string | string[] | undefined): readonly string[] {
  if (value === undefined || (typeof value === 'string' && PLAIN_CONNECTION.has(value))) return NO_TOKENS;
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

/** Lengths of the names a response may not pass on: only names this long need lower-casing. */
const DROPPED_LENGTHS = new Set([...HOP_BY_HOP, 'transfer-encoding'].map((n) => n.length));

/** Names listed in the worker's Connection header (undefined: none, the common case). */
function connectionDrops(rawHeaders: readonly string[]): Set<string> | undefined {
  let drop: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      for (const t of connectionTokens(rawHeaders[i + 1])) (drop ??= new Set()).add(t);
    }
  }
  return drop;
}

/**
 * The worker's response headers as a flat [name, value, …] list, original case and order kept,
 * repeated names (Set-Cookie) kept as repeated lines, connection-specific ones removed (Node frames
 * the client response itself), and `extra` appended after the worker's.
 */
export function responseHeaderList(rawHeaders: readonly string[], extra: readonly string[]): string[] {
  const drop = connectionDrops(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (drop !== undefined || DROPPED_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (lower === 'transfer-encoding' || HOP_BY_HOP.has(lower) || drop?.has(lower)) continue;
    }
    out.push(name, rawHeaders[i + 1]!);
  }
  for (const e of extra) out.push(e);
  return out;
}

// Only compared with res.writeHead, never called unbound.
// eslint-disable-next-line @typescript-eslint/unbound-method
const nodeWriteHead = ServerResponse.prototype.writeHead;

/** Node's own slot for headers set so far (`kOutHeaders`), found on the first response; null: not yet looked up. */
let outHeadersSlot: symbol | undefined | null = null;

/**
 * True when nothing ever set a header on `res`: only then does writeHead(status, list) send the list
 * as it is. Not the same as "no header names": a header set and removed leaves an empty map, and
 * writeHead then applies the list pair by pair. Unknown Node internals count as "set" (the safe path).
 */
function noHeaderMap(res: ServerResponse): boolean {
  if (outHeadersSlot === null) {
    outHeadersSlot = Object.getOwnPropertySymbols(res).find((s) => s.description === 'kOutHeaders');
  }
  return outHeadersSlot !== undefined && (res as unknown as Record<symbol, unknown>)[outHeadersSlot] === null;
}

/**
 * Writes the response head. When nothing ever set a header (plain node:http) and writeHead is
 * Node's own, the list goes to Node as it is, its cheapest path. Otherwise (Express sets
 * X-Powered-By) Node 20's writeHead(status, list) would apply it with setHeader pair by pair, so the
 * last of several Set-Cookie lines would win: the worker's headers replace earlier ones of the same
 * name and repeated names are appended instead.
 */
export function writeResponseHead(
  res: ServerResponse,
  status: number,
  message: string,
  rawHeaders: readonly string[],
  extra: readonly string[],
): void {
  const list = responseHeaderList(rawHeaders, extra);
  // A wrapped writeHead (on-headers before 1.1.0, as morgan 1.10.0 pins) may read a list as
  // [name, value] pairs: it gets no list.
  if (res.writeHead === nodeWriteHead && noHeaderMap(res)) {
    res.writeHead(status, message, list);
    return;
  }
  const earlier = res.getHeaderNames();
  for (const name of earlier) {
    for (let i = 0; i < list.length; i += 2) {
      if (list[i]!.length === name.length && list[i]!.toLowerCase() === name) {
        res.removeHeader(name);
        break;
      }
    }
  }
  // appendHeader sets a name not set yet and adds a line to one that is.
  for (let i = 0; i < list.length; i += 2) res.appendHeader(list[i]!, list[i + 1]!);
  res.writeHead(status, message);
}
