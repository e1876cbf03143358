import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Measures } from '../model/outcome.js';
import type { ForwardRequest } from './forwarder.js';
import type { UndiciRequest } from './undici-request.js';
import type { AttemptTimer } from './timings.js';
import type { Connection, WorkerPool } from './undici-pools.js';
import { codedError, type Outcome } from './outcome.js';
import { writeResponseHead } from './headers.js';
import { reverseHeaders } from './reverse.js';
import type { Worker } from '../core/worker.js';
import { headProblem, reasonPhrase } from './response-head.js';
import { onClientClose, offClientClose, type ClientCloseWatcher } from './client-close.js';
import { log } from '../debug.js';

type ErrorCode = string | undefined;

function codeOf(err: Error): ErrorCode {
  return (err as NodeJS.ErrnoException).code;
}

/** A socket error undici raises when the worker closed or reset the connection. */
function closedByWorker(code: ErrorCode): boolean {
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * undici's errors in the terms the default engine reports them (the codes failover and the error
 * messages read): a connect timeout, a response timeout, a connection closed without an answer.
 */
function normalised(err: Error): Error {
  const code = codeOf(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return codedError('connect timeout', 'ECONNECTTIMEOUT');
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return codedError('worker response timeout', 'ETIMEDOUT');
  }
  if (code === 'UND_ERR_SOCKET') {
    if (err.message === 'bad upgrade') {
      return codedError('the worker switched protocols (101) on a request without Upgrade', 'EBADRESPONSE');
    }
    return codedError('socket hang up', 'ECONNRESET');
  }
  return err;
}

/**
 * The reason phrase's bytes as Node's client gives them (one character per byte), from undici's
 * UTF-8 reading of them; undefined when they were not UTF-8 (undici replaced them, they are lost).
 */
function phraseBytes(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(text)) return text;
  return text.includes('\uFFFD') ? undefined : Buffer.from(text, 'utf8').toString('latin1');
}

/** Statuses whose response never has a body (RFC 9110 §15.3.5, §15.4.5). */
function bodiless(status: number): boolean {
  return status === 204 || status === 304;
}

/** Header lines from undici (Buffers) as the strings Node's parser gives. */
function headerStrings(raw: readonly Buffer[]): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i]!.toString('latin1');
  return out;
}

/**
 * One attempt over undici: its handler. Classifies failures by phase (never connected / connected,
 * no response / response started), streams the response to the client with back-pressure, and
 * settles exactly once with an Outcome. The response head is written with the first body byte, so
 * a worker that fails before that still gets the client a proper error answer.
 */
export class UndiciExchange implements ClientCloseWatcher {
  readonly #request: ForwardRequest;
  readonly #res: ServerResponse;
  readonly #client: Socket;
  readonly #timer: AttemptTimer;
  readonly #headBytes: number;
  readonly #chunked: boolean;
  readonly #body: Readable | undefined;
  readonly #timeoutMs: number;
  /** The response timeout: no byte from the worker for timeoutMs (undici's own timers are coarser than a second). */
  #idle: NodeJS.Timeout | undefined;
  #pool: WorkerPool | undefined;
  #conn: Connection | undefined;
  #resume: (() => void) | undefined;
  #onDrain: (() => void) | undefined;
  #reused = false;
  #bodySent = 0;
  #read = 0;
  #status = 0;
  #message = '';
  #rawHeaders: string[] = [];
  readonly #worker: Worker;
  #responded = false;
  #headWritten = false;
  #settled = false;

  constructor(worker: Worker, request: ForwardRequest, sent: UndiciRequest, timer: AttemptTimer, timeoutMs: number) {
    this.#worker = worker;
    this.#timeoutMs = timeoutMs;
    this.#request = request;
    this.#res = request.res;
    this.#client = request.client;
    this.#timer = timer;
    this.#headBytes = sent.headBytes;
    this.#chunked = sent.chunked;
    this.#body = sent.stream;
    onClientClose(this.#client, this);
  }

  /** Sends the request on a connection of `pool` (an open one if any: a reused socket). */
  start(pool: WorkerPool, options: Dispatcher.DispatchOptions): void {
    const conn = pool.acquire();
    this.#pool = pool;
    this.#conn = conn;
    this.#reused = conn.open;
    conn.client.dispatch(options, this);
  }

  // undici's handler: see Dispatcher.dispatch().

  /** The connection is ready and undici writes the request. */
  onConnect(): void {
    this.#timer.connected();
    this.#idle = setTimeout(() => {
      this.#timedOut();
    }, this.#timeoutMs);
  }

  #timedOut(): void {
    if (this.#settled) return;
    const error = codedError('worker response timeout', 'ETIMEDOUT');
    if (this.#responded) this.#broke(error, true);
    else this.#finish({ kind: 'timeout', error, ...this.#measures() });
  }

  onBodySent(chunk: Buffer | number): void {
    // Socket inactivity, as Apache's timeout: an upload still flowing is not timed out.
    this.#idle?.refresh();
    const n = typeof chunk === 'number' ? chunk : chunk.length;
    // Chunked: the size line and the CRLF after the data.
    this.#bodySent += this.#chunked ? n + n.toString(16).length + 4 : n;
  }

  onRequestSent(): void {
    // The last chunk of a chunked body: "0\r\n\r\n".
    if (this.#chunked) this.#bodySent += 5;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.#settled) return false;
    // An interim answer (103 Early Hints, an unasked-for 100): the final one follows. Not a 101,
    // which no request here asked for (headProblem says so below).
    if (status < 200 && status !== 101) return true;
    this.#idle?.refresh();
    this.#responded = true;
    this.#timer.firstByte();
    this.#status = status;
    this.#resume = resume;
    const phrase = phraseBytes(statusText);
    // Status line + body, as Apache counts a worker's `read` for bytraffic.
    this.#read += 10 + String(status).length + (phrase ?? statusText).length;
    const headers = headerStrings(rawHeaders);
    const problem = headProblem(status, headers);
    if (problem !== undefined) {
      this.#finish({
        kind: 'failed',
        error: codedError(`the worker sent ${problem}`, 'EBADRESPONSE'),
        ...this.#measures(),
      });
      return false;
    }
    this.#message = phrase === undefined ? (STATUS_CODES[status] ?? '') : reasonPhrase(status, phrase);
    this.#rawHeaders = headers;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#idle?.refresh();
    this.#read += chunk.length;
    if (this.#settled || this.#endedElsewhere() || (!this.#headWritten && !this.#writeHead())) return false;
    if (this.#res.write(chunk)) return true;
    // Back-pressure: undici holds the worker's socket until the client took what is buffered.
    this.#res.once(
      'drain',
      (this.#onDrain ??= () => {
        this.#resume?.();
      }),
    );
    return false;
  }

  onComplete(): void {
    if (this.#settled || this.#endedElsewhere() || (!this.#headWritten && !this.#writeHead())) return;
    this.#res.end();
    this.#finish({ kind: 'completed', status: this.#status, ...this.#measures(true) });
  }

  onError(err: Error): void {
    if (this.#settled) return;
    const code = codeOf(err);
    if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' && bodiless(this.#status)) {
      // A 204 or 304 ends with its head whatever its Content-Length says (as Node's client reads it):
      // undici still counts the body missing, after the response was complete.
      this.onComplete();
      return;
    }
    if (this.#responded) {
      this.#broke(err, code === 'UND_ERR_BODY_TIMEOUT');
      return;
    }
    const error = normalised(err);
    if (!this.#timer.hasConnected) this.#finish({ kind: 'connect-failed', error, ...this.#measures() });
    else if (code === 'UND_ERR_HEADERS_TIMEOUT') this.#finish({ kind: 'timeout', error, ...this.#measures() });
    else if (closedByWorker(code) && this.#reused) {
      this.#finish({ kind: 'stale-socket', error, ...this.#measures() });
    } else this.#finish({ kind: 'failed', error, ...this.#measures() });
  }

  /** Writes the worker's head to the client; false (and settled) when Node refused it. */
  #writeHead(): boolean {
    this.#headWritten = true;
    try {
      const reverse = this.#request.reverse;
      const raw = reverse
        ? reverseHeaders(this.#rawHeaders, this.#worker, reverse, this.#request.req)
        : this.#rawHeaders;
      writeResponseHead(this.#res, this.#status, this.#message, raw, this.#request.responseExtras(this.#status));
      return true;
    } catch (err) {
      // Refused before anything was sent (a wrapped writeHead that throws, a response ended by someone else).
      this.#finish({ kind: 'failed', error: err as Error, ...this.#measures() });
      return false;
    }
  }

  /** Someone else ended the response (a timeout middleware): the worker's answer is dropped. */
  #endedElsewhere(): boolean {
    if (!this.#res.writableEnded) return false;
    this.#finish({ kind: 'truncated', status: this.#status, timedOut: false, ...this.#measures() });
    return true;
  }

  /** The worker's response stopped before its end: an error answer if nothing reached the client, else a cut. */
  #broke(err: Error, timedOut: boolean): void {
    if (!this.#headWritten) {
      this.#finish(
        timedOut
          ? { kind: 'timeout', error: normalised(err), ...this.#measures() }
          : {
              kind: 'failed',
              error: codedError(`the response broke before its body (${err.message})`, 'EBADRESPONSE'),
              ...this.#measures(),
            },
      );
      return;
    }
    // The client has part of a response: cut it so it is seen as truncated, never spliced. Node
    // holds a response's first write back (corked) until the next tick: let it out before the cut.
    this.#res.socket?.uncork();
    this.#res.destroy();
    this.#finish({ kind: 'truncated', status: this.#status, timedOut, ...this.#measures() });
  }

  /** @internal The client's connection closed: the worker's request is aborted (its connection closed). */
  clientClosed(): void {
    if (this.#settled) return;
    const measures = this.#measures();
    if (this.#responded) this.#finish({ kind: 'truncated', status: this.#status, timedOut: false, ...measures });
    else this.#finish({ kind: 'client-aborted', ...measures });
  }

  #transferred(): number {
    return this.#timer.hasConnected ? this.#headBytes + this.#bodySent : 0;
  }

  #measures(completed = false): Measures {
    return this.#timer.measures(completed, this.#transferred(), this.#read);
  }

  #finish(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#idle);
    offClientClose(this.#client, this);
    // A connection whose request did not complete is closed, which also stops undici's request.
    this.#pool?.release(this.#conn!, outcome.kind === 'completed');
    // A body still streaming from the client stops here (undici leaves it alone when it fails to connect).
    if (outcome.kind !== 'completed') this.#body?.destroy();
    if (log.forward.enabled) {
      const req: IncomingMessage = this.#request.req;
      log.forward('%s %s -> %s (undici)', req.method, req.url, outcome.kind);
    }
    this.#request.settle(outcome);
  }
}
