import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import type { ErrorCode } from '../errors.js';
import { parsedBodyPlan, type ParsedFrom } from './parsed-body.js';

/**
 * How a request body is forwarded. Bodies up to the replay limit are read first (as nginx's
 * proxy_request_buffering does) so a failed connect can be retried elsewhere with the same bytes;
 * larger ones stream once, and such a request does not fail over.
 */
export type BodyPlan =
  | { kind: 'none' }
  | { kind: 'buffered'; chunks: Buffer[]; bytes: number; parsed?: ParsedFrom }
  | { kind: 'streaming'; prefix: Buffer[]; bytes: number; idleMs: number }
  | { kind: 'consumed'; cause: string }
  | { kind: 'aborted' }
  | { kind: 'timeout' }
  /** The head does not say for sure where the body ends: answered with `status`, never forwarded. */
  | { kind: 'unframed'; status: 431 | 501; code: ErrorCode; message: string };

const NONE: BodyPlan = { kind: 'none' };

export function hasBody(headers: IncomingHttpHeaders): boolean {
  const cl = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/** Node's parser keeps this many header lines in req.headers unless the server says otherwise. */
const NODE_MAX_HEADERS = 1000;

/** How many header lines the server that parsed `req` keeps (0: no limit), as Node reads `maxHeadersCount`. */
function headerLimit(req: IncomingMessage): number {
  const max = (req.socket as { server?: { maxHeadersCount?: unknown } } | null)?.server?.maxHeadersCount;
  return typeof max === 'number' ? max : NODE_MAX_HEADERS;
}

/** Only chunked (and the no-op identity) can be re-framed: the body is de-chunked here and chunked again. */
function reframable(te: string): boolean {
  return te.split(',').every((c) => {
    const coding = c.trim().toLowerCase();
    return coding === 'chunked' || coding === 'identity';
  });
}

/**
 * Refuses a request whose framing the worker could not be told faithfully: past the server's header
 * limit Node drops the later lines from req.headers (Content-Length among them, maybe) but still
 * frames the body by them; and a transfer-coding other than chunked would reach the worker without
 * its name once the body is re-chunked.
 */
function unframed(req: IncomingMessage, headers: IncomingHttpHeaders): BodyPlan | undefined {
  const limit = headerLimit(req);
  if (limit > 0 && req.rawHeaders.length > 2 * limit) {
    return {
      kind: 'unframed',
      status: 431,
      code: 'ERR_HEADERS_TOO_MANY',
      message: `more than ${limit} header fields`,
    };
  }
  const te = headers['transfer-encoding'];
  if (te !== undefined && te !== 'chunked' && !reframable(te)) {
    return {
      kind: 'unframed',
      status: 501,
      code: 'ERR_TRANSFER_CODING',
      message: `Transfer-Encoding ${JSON.stringify(te)} is not supported`,
    };
  }
  return undefined;
}

/** Reads up to `limit` bytes of `req` (whose headers are `headers`); a pause of `idleMs` between chunks (a trickling client) ends it. */
export function readBody(
  req: IncomingMessage,
  headers: IncomingHttpHeaders,
  limit: number,
  idleMs: number,
): Promise<BodyPlan> | BodyPlan {
  const refused = unframed(req, headers);
  if (refused !== undefined) return refused;
  if (!hasBody(headers)) return NONE;
  // An earlier middleware read it: req.rawBody or the parsed req.body can still go.
  if (req.readableEnded) return parsedBodyPlan(req, headers);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const timer = setTimeout(onIdle, idleMs);
    function onIdle(): void {
      cleanup();
      resolve({ kind: 'timeout' });
    }
    const cleanup = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      bytes += chunk.length;
      timer.refresh();
      if (bytes > limit) {
        cleanup();
        req.pause();
        resolve({ kind: 'streaming', prefix: chunks, bytes, idleMs });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ kind: 'buffered', chunks, bytes });
    };
    const onClose = (): void => {
      cleanup();
      resolve({ kind: 'aborted' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

/** What the engine pipes into the worker request (the engine's `buffer` option). */
export interface BodySource {
  pipe(dest: Writable): unknown;
}

/**
 * A request without a body ends the worker request at once. Letting the engine pipe `req` instead
 * would add and remove half a dozen listeners per request only to forward an end.
 */
const EMPTY_BODY: BodySource = {
  pipe(dest: Writable): Writable {
    return dest.end();
  },
};

/**
 * A body already in memory (at most the replay limit), written straight into the worker request:
 * no Readable and no pipe() per attempt. The worker request buffers what the socket does not take.
 */
class BufferedBody implements BodySource {
  constructor(readonly chunks: readonly Buffer[]) {}

  pipe(dest: Writable): Writable {
    const { chunks } = this;
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) dest.write(chunks[i]);
    return last >= 0 ? dest.end(chunks[last]) : dest.end();
  }
}

/** The plans a request is forwarded with; the others are answered before any attempt. */
export type ForwardedPlan = Extract<BodyPlan, { kind: 'none' | 'buffered' | 'streaming' }>;

/** The code of the error a stalled streamed body aborts its worker request with. */
const BODY_TIMEOUT = 'EBODYTIMEOUT';

/** True for the error a worker request was aborted with because the client stopped sending its body. */
export function isBodyTimeout(err: Error): boolean {
  return (err as NodeJS.ErrnoException).code === BODY_TIMEOUT;
}

/**
 * A body larger than the replay limit: what was read, then the rest of `req` as it arrives. The
 * body timeout keeps running while it streams: a client that stops sending aborts the worker
 * request (with an error isBodyTimeout() recognises) instead of holding the worker's slot.
 */
class StreamingBody implements BodySource {
  constructor(
    readonly prefix: readonly Buffer[],
    readonly req: IncomingMessage,
    readonly idleMs: number,
  ) {}

  pipe(dest: Writable): Writable {
    for (const c of this.prefix) dest.write(c);
    this.req.pipe(dest);
    guardIdle(this.req, dest, this.idleMs);
    return dest;
  }
}

/** Aborts `dest` when `req` (piped into it) sends nothing for `idleMs`, until the body ends or `dest` closes. */
function guardIdle(req: IncomingMessage, dest: Writable, idleMs: number): void {
  const timer = setTimeout(onIdle, idleMs);
  const refresh = (): void => {
    timer.refresh();
  };
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', refresh);
    req.off('end', stop);
    req.off('close', stop);
    dest.off('close', stop);
  };
  function onIdle(): void {
    // Paused by backpressure: the worker is the slow side, and its own timeouts apply.
    if (req.readableFlowing === false) {
      timer.refresh();
      return;
    }
    stop();
    req.unpipe(dest);
    dest.destroy(Object.assign(new Error(`no request body data for ${idleMs} ms`), { code: BODY_TIMEOUT }));
  }
  req.on('data', refresh);
  req.once('end', stop);
  req.once('close', stop);
  dest.once('close', stop);
}

const NO_CHUNKS: readonly Buffer[] = Object.freeze([]);

/** The bytes of a body held in memory (none: no chunks), or undefined for one that streams from the client. */
export function heldChunks(source: BodySource): readonly Buffer[] | undefined {
  if (source === EMPTY_BODY) return NO_CHUNKS;
  return source instanceof BufferedBody ? source.chunks : undefined;
}

/** A fresh source of the body for one attempt. */
export function bodyStream(plan: ForwardedPlan, req: IncomingMessage): BodySource {
  if (plan.kind === 'none') return EMPTY_BODY;
  if (plan.kind === 'buffered') return new BufferedBody(plan.chunks);
  return new StreamingBody(plan.prefix, req, plan.idleMs);
}

/** True if the body can be sent again to another worker. */
export function isReplayable(plan: BodyPlan): boolean {
  return plan.kind === 'none' || plan.kind === 'buffered';
}
