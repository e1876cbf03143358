import type { IncomingMessage } from 'node:http';
import type { Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { RequestContext } from '../model/context.js';
import type { Selection } from '../balancer/select.js';
import type { StickyHit } from '../model/sticky.js';
import type { Outcome } from '../forward/outcome.js';
import { NO_TIMINGS } from '../model/outcome.js';
import type { ErrorCode } from '../errors.js';
import { isBodyTimeout } from '../forward/body.js';
import { selectWaiting, type ClientEnd } from './select-wait.js';
import type { RequestRecord } from './request-record.js';

/** How a request ends when it is not answered by a worker. */
export type Answer =
  /** Close the client's connection without an answer (it carried an earlier request: the client may retry). */
  | { kind: 'close' }
  /** The client stopped sending its body: 408, the worker is not at fault. */
  | { kind: 'stalled' }
  | { kind: 'fail'; code: ErrorCode; status: number; message: string; cause: unknown };

/**
 * What a Failover drives: an HTTP request or a WebSocket handshake. The loop, its rules, the retry
 * budget and the error marking are the same for both; only sending and answering differ.
 */
export interface AttemptSide {
  /** Which slot an attempt takes on its worker: one of `max`, or one of `maxupgrades`. */
  readonly slot: 'request' | 'upgrade';
  readonly req: IncomingMessage;
  readonly method: string;
  /** The client's connection: waits end when it closes. */
  readonly client: ClientEnd;
  /** False once nothing can reach the client any more. */
  reachable(): boolean;
  /** The request can be sent again (a body kept in memory, or nothing sent yet). */
  readonly replayable: boolean;
  /**
   * A request the worker may have seen may go to another one (retryon, replay). A WebSocket
   * handshake never is: once handed over, the worker may have started the session.
   */
  readonly resendable: boolean;
  /** Before each selection: false when no attempt can be made (answered); may add workers to `avoid`. */
  admit(avoid: () => Set<Worker>): boolean;
  /** After a selection: false when the worker cannot be taken after all (select again). */
  takes(worker: Worker): boolean;
  /** One attempt on `worker`: it reports back through Failover.settle(). */
  send(worker: Worker): void;
  /** No worker was found. */
  refuse(sel: Extract<Selection, { worker: undefined }>): void;
  answer(answer: Answer): void;
  /** The client's connection carried a request before this one. */
  clientReused(): boolean;
  /** A bug: answer if still possible. */
  internalError(err: unknown): void;
  /** What the request did, when someone listens (the `request` event, traces). */
  readonly record?: RequestRecord | undefined;
}

/** RFC 9110 §9.2.2: safe to send twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

type Next = { kind: 'done' } | { kind: 'retry' } | { kind: 'retry-same' } | Answer;

/**
 * One request's attempts: select → forward → account → fail over, until done. Mirrors Apache's
 * proxy_handler loop: a worker that cannot be reached goes into error state and the request moves
 * on while the worker is unusable and attempts remain. A request that reached a worker is re-sent
 * only when the balancer opted in (retryon "idempotent", or `replay`). Counted in the balancer's
 * `inflight` from the first selection until no attempt can follow.
 *
 * Synchronous until the worker answers whenever nothing has to wait: no promise or microtask on
 * the common path.
 */
export class Failover {
  #tried: Set<Worker> | undefined; // created on the first retry only
  #attempts = 0;
  #staleRetried = false;
  #pinned: Worker | undefined;
  #worker: Worker | undefined;
  #retryCounted = false;
  #ended = false;
  /** The current attempt's send time and its response head's latency (clock ms). */

  constructor(
    readonly balancer: Balancer,
    readonly ctx: RequestContext,
    readonly hit: StickyHit | undefined,
    readonly side: AttemptSide,
  ) {
    balancer.inflight++;
  }

  /** The worker of the current attempt. */
  get worker(): Worker | undefined {
    return this.#worker;
  }

  /** Runs the first attempt; a throw (a bug) is answered and ends the run. */
  start(): void {
    this.#nextSafely();
  }

  #avoid = (): Set<Worker> => (this.#tried ??= new Set());

  /** The next attempt: the pinned worker (stale socket retry) or a new selection. */
  #next(): void {
    const pinned = this.#pinned;
    if (pinned) {
      this.#pinned = undefined;
      this.#attempt(pinned);
      return;
    }
    if (!this.side.admit(this.#avoid)) {
      this.#end();
      return;
    }
    this.side.record?.selecting();
    const sel = selectWaiting(this.balancer, this.hit, this.ctx, this.#tried, this.side.client);
    if (sel instanceof Promise) {
      sel
        .then((s) => {
          this.#onSelected(s);
        })
        .catch((err: unknown) => {
          this.#onInternalError(err);
        });
    } else this.#onSelected(sel);
  }

  #onSelected(sel: Selection): void {
    this.side.record?.selected();
    if (!sel.worker) {
      if (!this.side.client.destroyed) this.side.refuse(sel);
      this.#end();
    } else if (!this.side.takes(sel.worker)) this.#nextSafely();
    else this.#attempt(sel.worker);
  }

  #attempt(worker: Worker): void {
    const { balancer, ctx } = this;
    this.#worker = worker;
    this.#retryCounted = ctx.tried.length > 0;
    ctx.worker = worker.name;
    ctx.workerRoute = worker.route;
    ctx.tried.push(worker.name);
    if (this.#retryCounted) balancer.retrying++;
    balancer.acquire(worker, this.side.slot);
    this.side.record?.attemptStart(worker);
    if (!this.side.reachable()) {
      this.settle({ kind: 'client-aborted', phase: 'not-connected', timings: NO_TIMINGS, transferred: 0, read: 0 });
      return;
    }
    this.side.send(worker);
  }

  /** The attempt was handed over for good (an open WebSocket tunnel): no attempt can follow. */
  opened(): void {
    this.#uncountRetry();
    this.#end();
  }

  /** How the current attempt ended. */
  settle(outcome: Outcome): void {
    try {
      this.#account(outcome);
    } catch (err) {
      this.#onInternalError(err);
    }
  }

  #account(outcome: Outcome): void {
    const { balancer, side } = this;
    const worker = this.#worker!;
    side.record?.attemptEnd(outcome);
    if ('error' in outcome && isBodyTimeout(outcome.error)) {
      // The client stopped sending a streamed body: the worker is not at fault.
      const { phase, timings, transferred, read } = outcome;
      balancer.release(worker, { kind: 'client-aborted', phase, timings, transferred, read }, side.method, side.slot);
      this.#uncountRetry();
      side.answer(STALLED);
      this.#end();
      return;
    }
    balancer.release(worker, outcome, side.method, side.slot);
    this.#uncountRetry();
    const next = this.#decide(worker, outcome);
    switch (next.kind) {
      case 'done':
        this.#end();
        return;
      case 'close':
      case 'stalled':
      case 'fail':
        side.answer(next);
        this.#end();
        return;
      case 'retry-same':
        this.#staleRetried = true;
        this.#pinned = worker;
        break;
      case 'retry':
        this.#attempts++;
        this.#avoid().add(worker);
        break;
    }
    // A fresh stack: the failed attempt may have been reported from inside the engine's call.
    process.nextTick(() => {
      this.#nextSafely();
    });
  }

  /**
   * What to do after an attempt. A connect failure moves on while the worker is now unusable
   * (Apache; `+I` workers stay usable, so no failover). A failure after the request was sent moves
   * on only for requests the balancer may re-send. Every retry needs an attempt left, a replayable
   * request and room in the retry budget.
   */
  #decide(worker: Worker, outcome: Outcome): Next {
    const { balancer, side } = this;
    // The common endings first: nothing below is built for them.
    if (outcome.kind === 'completed' || outcome.kind === 'truncated') {
      afterResponse(balancer, worker, outcome);
      return DONE;
    }
    if (outcome.kind === 'client-aborted') return DONE;
    const canRetry = (): boolean => side.replayable && this.#attempts < balancer.maxAttempts && this.#budgetAllows();
    const replay = (): boolean => side.resendable && balancer.replay?.(side.req) === true;
    const mayResend = (): boolean =>
      ((side.resendable && balancer.retryon === 'idempotent' && IDEMPOTENT.has(side.method)) || replay()) && canRetry();
    switch (outcome.kind) {
      case 'connect-failed':
        balancer.markError(
          worker,
          `${side.slot === 'upgrade' ? 'upgrade ' : ''}connect failed: ${errorCode(outcome.error)}`,
        );
        if (!worker.isUsable() && canRetry()) return RETRY;
        return fail('ERR_WORKER_CONNECT', 503, worker, outcome.error);
      case 'stale-socket':
        // The worker closed an idle keep-alive socket as we reused it: it never saw the request.
        if (!this.#staleRetried && side.replayable && side.resendable && (IDEMPOTENT.has(side.method) || replay())) {
          return RETRY_SAME;
        }
        return mayResend() ? RETRY : fail('ERR_WORKER_RESPONSE', 502, worker, outcome.error);
      case 'timeout':
        if (balancer.failontimeout) balancer.markError(worker, 'response timeout (failontimeout)');
        return mayResend() ? RETRY : fail('ERR_WORKER_TIMEOUT', 504, worker, outcome.error);
      case 'failed':
        if (closedUnanswered(outcome.error) && side.clientReused()) {
          // Apache: the worker is put in error, and the client's connection closed without an answer,
          // which a client may retry since its connection carried an earlier request (RFC 9112 §9.3.1).
          balancer.markError(worker, 'closed the connection without answering');
          return mayResend() ? RETRY : CLOSE;
        }
        return mayResend() ? RETRY : fail('ERR_WORKER_RESPONSE', 502, worker, outcome.error);
    }
  }

  #budgetAllows(): boolean {
    if (this.balancer.retryAllowed()) return true;
    this.side.record?.budgetRefused();
    return false;
  }

  #uncountRetry(): void {
    if (!this.#retryCounted) return;
    this.#retryCounted = false;
    this.balancer.retrying--;
  }

  #nextSafely(): void {
    try {
      this.#next();
    } catch (err) {
      this.#onInternalError(err);
    }
  }

  #onInternalError(err: unknown): void {
    this.side.internalError(err);
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.balancer.inflight--;
    this.side.record?.end();
  }
}

const DONE: Next = Object.freeze({ kind: 'done' });
const RETRY: Next = Object.freeze({ kind: 'retry' });
const RETRY_SAME: Next = Object.freeze({ kind: 'retry-same' });
const CLOSE: Answer = Object.freeze({ kind: 'close' });
const STALLED: Answer = Object.freeze({ kind: 'stalled' });

/** The worker closed or reset its connection before any response byte (not garbage, not a bad head). */
function closedUnanswered(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function fail(code: ErrorCode, status: number, worker: Worker, error: Error): Answer {
  const message = code === 'ERR_WORKER_TIMEOUT' ? `no response within ${worker.timeoutMs} ms` : error.message;
  return { kind: 'fail', code, status, message: `${worker.name}: ${message}`, cause: error };
}

/** Apache's post_request: failonstatus and failontimeout mark the worker after the client got its answer. */
function afterResponse(balancer: Balancer, worker: Worker, outcome: Outcome & { status: number }): void {
  if (balancer.failonstatus.has(outcome.status)) balancer.markError(worker, `failonstatus: answered ${outcome.status}`);
  else if (outcome.kind === 'truncated' && outcome.timedOut && balancer.failontimeout) {
    balancer.markError(worker, 'response timeout mid-body (failontimeout)');
  }
}

function errorCode(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}
