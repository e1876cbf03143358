import { PassThrough, Readable } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { heldChunks, type BodySource } from './body.js';

/** What undici is asked to send, and the bytes of the head it writes for it. */
export interface UndiciRequest {
  options: Dispatcher.DispatchOptions;
  /** Request line and header lines as undici writes them (for `transferred`). */
  headBytes: number;
  /** The body goes out chunked (each chunk then carries its size line). */
  chunked: boolean;
}

/** `name: value\r\n` as undici writes a header line. */
function lineBytes(name: string, value: string): number {
  return name.length + value.length + 4;
}

/**
 * The body as undici takes it: one Buffer with its length (undici writes Content-Length), the held
 * chunks as a stream (undici sends them chunked, as the client did), or a stream of what the
 * client is still sending.
 */
function undiciBody(source: BodySource, chunkedByClient: boolean): Dispatcher.DispatchOptions['body'] {
  const held = heldChunks(source);
  if (held === undefined) {
    const stream = new PassThrough();
    source.pipe(stream);
    return stream;
  }
  if (held.length === 0) return null;
  if (chunkedByClient) return Readable.from(held);
  return held.length === 1 ? held[0]! : Buffer.concat(held);
}

/**
 * Builds the request for undici from the worker's headers (forward/headers.ts already removed the
 * connection-specific ones). undici frames the body itself: it refuses a Transfer-Encoding header,
 * so a chunked request is handed over as a stream without length, which undici sends chunked.
 */
export function undiciRequest(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: BodySource,
): UndiciRequest {
  const chunked = headers['transfer-encoding'] !== undefined;
  const list: string[] = [];
  // "METHOD path HTTP/1.1\r\n", "connection: …\r\n" (undici closes after HEAD) and the final "\r\n".
  let headBytes = method.length + path.length + 11 + (method === 'HEAD' ? 19 : 24) + 2;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || name === 'transfer-encoding') continue;
    if (typeof value === 'string') {
      list.push(name, value);
      headBytes += lineBytes(name, value);
    } else {
      for (const v of value) {
        list.push(name, v);
        headBytes += lineBytes(name, v);
      }
    }
  }
  if (chunked) headBytes += lineBytes('transfer-encoding', 'chunked');
  return {
    options: { method, path, headers: list, body: undiciBody(body, chunked) },
    headBytes,
    chunked,
  };
}
