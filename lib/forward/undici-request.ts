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
  /** The stream the client's body arrives on, if it is still arriving (destroyed when the attempt fails). */
  stream: PassThrough | undefined;
}

/** `name: value\r\n` as undici writes a header line. */
function lineBytes(name: string, value: string): number {
  return name.length + value.length + 4;
}

/** Chunks with no length undici could work out (it sends a stream it finds already ended with its length). */
async function* unsized(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield c;
}

/**
 * The body as undici takes it: one Buffer with its length (undici writes Content-Length), or a
 * stream of what the client is still sending; a body the client sent chunked goes as an iterable
 * of unknown length, which undici sends chunked, as the client did.
 */
function undiciBody(source: BodySource, chunkedByClient: boolean): UndiciBody {
  const held = heldChunks(source);
  if (held !== undefined) {
    if (held.length === 0) return { body: null, stream: undefined };
    if (chunkedByClient) return { body: unsized(held) as unknown as Readable, stream: undefined };
    return { body: held.length === 1 ? held[0]! : Buffer.concat(held), stream: undefined };
  }
  const stream = new PassThrough();
  source.pipe(stream);
  return { body: chunkedByClient ? (unsized(stream) as unknown as Readable) : stream, stream };
}

interface UndiciBody {
  body: Dispatcher.DispatchOptions['body'];
  /** The stream the client's body arrives on, if it is still arriving. */
  stream: PassThrough | undefined;
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
  const { body: sent, stream } = undiciBody(body, chunked);
  return { options: { method, path, headers: list, body: sent }, headBytes, chunked, stream };
}
