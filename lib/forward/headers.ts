import { ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

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
function clientAddress(client: Socket): string {
  const a = client.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * At the edge nothing the client says about earlier hops is true: each forwarding header is
 * replaced by what this connection shows, and `Forwarded`, which would say otherwise, is dropped.
 */
function setEdgeForwarded(
  out: IncomingHttpHeaders,
  src: IncomingHttpHeaders,
  client: Socket,
  serverName: string,
): void {
  out['x-forwarded-for'] = clientAddress(client);
  if (src.host !== undefined) out['x-forwarded-host'] = src.host;
  else delete out['x-forwarded-host'];
  out['x-forwarded-server'] = serverName;
  out['x-forwarded-proto'] = (client as Partial<TLSSocket>).encrypted === true ? 'https' : 'http';
  delete out.forwarded;
}

export interface OutgoingHeaderOptions {
  /** Worker host[:port] for the Host header, or undefined to keep the client's. */
  host: string | undefined;
  /** true: append to the client's X-Forwarded-*; 'edge': replace them (see setEdgeForwarded); false: none. */
  xForwarded: boolean | 'edge';
  serverName: string;
  /** An Upgrade (WebSocket) handshake: keep `Upgrade` and send `Connection: Upgrade`. */
  upgrade?: boolean;
}

/** The headers sent to a worker: a copy of the client's (`src`, from `client`), cleaned and extended like mod_proxy does. */
export function outgoingHeaders(
  src: IncomingHttpHeaders,
  client: Socket,
  opts: OutgoingHeaderOptions,
): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  const tokens = connectionTokens(src.connection);
  const drop = tokens.length > 0 ? new Set(tokens) : undefined;
  for (const key of Object.keys(src)) {
    if (HOP_BY_HOP.has(key) || (drop?.has(key) && !PROTECTED.has(key))) continue;
    out[key] = src[key];
  }
  if (opts.xForwarded === 'edge') setEdgeForwarded(out, src, client, opts.serverName);
  else if (opts.xForwarded) {
    out['x-forwarded-for'] = append(src['x-forwarded-for'], clientAddress(client));
    if (src.host !== undefined) out['x-forwarded-host'] = append(src['x-forwarded-host'], src.host);
    out['x-forwarded-server'] = append(src['x-forwarded-server'], opts.serverName);
  }
  if (opts.host !== undefined) out.host = opts.host;
  // The body is de-chunked on the way in and chunked again on the way out: the client's spelling
  // ("identity, chunked", "CHUNKED") would only tell the worker something the balancer did not do.
  if (out['transfer-encoding'] !== undefined) out['transfer-encoding'] = 'chunked';
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

/** Node's header map: lower-case name -> [name as set, value or values]. */
type HeaderMap = Record<string, [string, string | string[]]>;

/** Node's own slot for headers set so far (`kOutHeaders`), found on the first response; null: not yet looked up. */
let outHeadersSlot: symbol | undefined | null = null;

function headerSlot(res: ServerResponse): symbol | undefined {
  if (outHeadersSlot === null) {
    outHeadersSlot = Object.getOwnPropertySymbols(res).find((s) => s.description === 'kOutHeaders');
  }
  return outHeadersSlot;
}

function listed(list: readonly string[], lowerName: string): boolean {
  for (let i = 0; i < list.length; i += 2) {
    if (list[i]!.length === lowerName.length && list[i]!.toLowerCase() === lowerName) return true;
  }
  return false;
}

/** Headers set before (Express's X-Powered-By, an app's CORS headers) that the worker did not send, then the worker's. */
function mergedList(earlier: HeaderMap, list: string[]): string[] {
  const out: string[] = [];
  for (const key in earlier) {
    if (listed(list, key)) continue;
    const [name, value] = earlier[key]!;
    if (typeof value === 'string') out.push(name, value);
    else for (const v of value) out.push(name, v);
  }
  for (const item of list) out.push(item);
  return out;
}

/** The map Node would have built for `list`, so getHeader()/getHeaders() still answer after the head. */
function headerMap(list: readonly string[]): HeaderMap {
  const map = Object.create(null) as HeaderMap;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    const key = name.toLowerCase();
    const entry = map[key];
    if (entry === undefined) map[key] = [name, list[i + 1]!];
    else if (typeof entry[1] === 'string') entry[1] = [entry[1], list[i + 1]!];
    else entry[1].push(list[i + 1]!);
  }
  return map;
}

/**
 * Writes the response head. With Node's own writeHead the whole list goes to it at once, its
 * cheapest path, and every line is kept (Node 20 would apply a list with setHeader pair by pair
 * once any header was set, so only the last Set-Cookie would survive): headers set earlier and not
 * sent by the worker come first, the worker's replace the rest. Node's header map is rebuilt
 * afterwards so loggers reading res.getHeaders() at the end still see what was sent. A wrapped
 * writeHead (on-headers, as morgan and compression use) gets the headers set one by one instead:
 * its wrapper runs before Node's and may set more (on-headers before 1.1.0 also read a list as
 * [name, value] pairs).
 */
export function writeResponseHead(
  res: ServerResponse,
  status: number,
  message: string,
  rawHeaders: readonly string[],
  extra: readonly string[],
): void {
  const list = responseHeaderList(rawHeaders, extra);
  const slot = headerSlot(res);
  if (res.writeHead !== nodeWriteHead || slot === undefined) {
    writeHeadersOneByOne(res, status, message, list);
    return;
  }
  const fields = res as unknown as Record<symbol, HeaderMap | null>;
  const earlier = fields[slot] ?? null;
  const all = earlier ? mergedList(earlier, list) : list;
  fields[slot] = null;
  try {
    res.writeHead(status, message, all);
  } catch (err) {
    // Node refused a header (invalid characters): nothing was sent, the error response still can be.
    fields[slot] = earlier;
    throw err;
  }
  fields[slot] = headerMap(all);
}

function writeHeadersOneByOne(res: ServerResponse, status: number, message: string, list: readonly string[]): void {
  for (const name of res.getHeaderNames()) if (listed(list, name)) res.removeHeader(name);
  // appendHeader sets a name not set yet and adds a line to one that is.
  for (let i = 0; i < list.length; i += 2) res.appendHeader(list[i]!, list[i + 1]!);
  res.writeHead(status, message);
}
