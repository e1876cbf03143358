import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough, type Writable } from 'node:stream';
import { parsedBodyPlan, type ParsedFrom } from './parsed-body.js';

/**
 * How a request body is forwarded. Bodies up to the replay limit are read first (as nginx's
 * proxy_request_buffering does) so a failed connect can be retried elsewhere with the same bytes;
 * larger ones stream once, and such a request does not fail over.
 */
export type BodyPlan =
  | { kind: 'none' }
  | { kind: 'buffered'; chunks: Buffer[]; bytes: number; parsed?: ParsedFrom }
  | { kind: 'streaming'; prefix: Buffer[]; bytes: number }
  | { kind: 'consumed'; cause: string }
  | { kind: 'aborted' }
  | { kind: 'timeout' };

const NONE: BodyPlan = { kind: 'none' };

export function hasBody(headers: IncomingHttpHeaders): boolean {
  const cl = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/** Reads up to `limit` bytes of `req` (whose headers are `headers`); a pause of `idleMs` between chunks (a trickling client) ends it. */
export function readBody(
  req: IncomingMessage,
  headers: IncomingHttpHeaders,
  limit: number,
  idleMs: number,
): Promise<BodyPlan> | BodyPlan {
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
        resolve({ kind: 'streaming', prefix: chunks, bytes });
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

/** What the engine pipes into the worker request (http-proxy's `buffer` option). */
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

/** A fresh source of the body for one attempt. */
export function bodyStream(plan: ForwardedPlan, req: IncomingMessage): BodySource {
  if (plan.kind === 'none') return EMPTY_BODY;
  if (plan.kind === 'buffered') return new BufferedBody(plan.chunks);
  const out = new PassThrough();
  for (const c of plan.prefix) out.write(c);
  req.pipe(out);
  return out;
}

/** True if the body can be sent again to another worker. */
export function isReplayable(plan: BodyPlan): boolean {
  return plan.kind === 'none' || plan.kind === 'buffered';
}
