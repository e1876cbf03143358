import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Balancer } from '../core/balancer.js';
import type { Worker } from '../core/worker.js';
import type { GlobalSpec } from '../config/global-spec.js';
import type { Outcome } from '../forward/outcome.js';
import type { RequestContext } from '../core/context.js';
import type { ProxyEngine } from '../forward/http-proxy.js';
import type { AgentPool } from '../forward/agents.js';
import { contextHeaders } from '../core/context.js';
import { routeSetCookie } from '../core/route-cookie.js';
import { beginRequest, selectWaiting } from './select-wait.js';
import {
  readBody,
  bodyStream,
  isBodyTimeout,
  isReplayable,
  type BodyPlan,
  type ForwardedPlan,
} from '../forward/body.js';
import type { Selection } from '../core/select.js';
import { log } from '../debug.js';
import type { StickyHit } from '../core/sticky.js';
import type { ErrorCode } from '../errors.js';
import { outgoingHeaders } from '../forward/headers.js';
import { Exchange, type ExchangeOwner } from '../forward/exchange.js';
import { respondError } from './respond.js';

export interface HandlerDeps {
  global: GlobalSpec;
  engine: ProxyEngine;
  agents: AgentPool;
}

/** RFC 9110 §9.2.2: safe to send twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * The request path, top-down: resolve the route → elect a worker → forward → account → fail over.
 * Mirrors Apache's proxy_handler loop: a worker that cannot be reached goes into error state and
 * the request moves on while the worker is unusable and attempts remain. A request that reached a
 * worker is re-sent only when the balancer opted in (retryon "idempotent", or `replay`).
 *
 * Synchronous until the worker answers whenever nothing has to wait (no body to read, a worker
 * free): no promise or microtask on the common path.
 */
export function handleRequest(
  deps: HandlerDeps,
  balancer: Balancer,
  path: string,
  url: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const { global } = deps;
  const headers = req.headers;
  const { ctx, hit } = beginRequest(balancer, req, url, headers.cookie);
  const plan = readBody(req, headers, global.replayBufferBytes, global.bodyTimeoutMs);
  if (!(plan instanceof Promise)) {
    run(deps, balancer, path, req, res, ctx, hit, plan);
    return;
  }
  plan
    .then((p) => {
      run(deps, balancer, path, req, res, ctx, hit, p);
    })
    .catch((err: unknown) => {
      internalError(global, req, res, err);
    });
}

/** Runs the request's attempts once its body plan is known (a module function: no closure per request). */
function run(
  deps: HandlerDeps,
  balancer: Balancer,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  hit: StickyHit | undefined,
  plan: BodyPlan,
): void {
  if (admitted(deps.global, req, res, plan)) new RequestRun(deps, balancer, path, req, res, ctx, hit, plan).start();
}

const MOUNT_FIRST = 'mount the balancer before body parsers (app.use(balancer(config)) before express.json())';

/** False (and answered) when the body was lost, already read, or too slow to arrive. */
function admitted(
  global: GlobalSpec,
  req: IncomingMessage,
  res: ServerResponse,
  plan: BodyPlan,
): plan is ForwardedPlan {
  if (plan.kind === 'aborted') return false;
  if (plan.kind === 'consumed') {
    const message = `the request body was read before the balancer and cannot be forwarded (${plan.cause}): ${MOUNT_FIRST}, or keep the raw bytes in req.rawBody`;
    global.notices.once('error', `consumed: ${plan.cause}`, message);
    respondError(global, req, res, 'ERR_BODY_CONSUMED', 500, message);
    return false;
  }
  if (plan.kind === 'buffered' && plan.parsed !== undefined) {
    global.notices.once(
      'warn',
      'parsed body',
      `a body parser ran before the balancer: the request body is forwarded re-serialised from req.body (${plan.parsed}), which costs a parse and may change its bytes; ${MOUNT_FIRST}`,
    );
  }
  if (plan.kind === 'timeout') {
    answerBodyTimeout(global, req, res);
    return false;
  }
  if (plan.kind === 'unframed') {
    res.shouldKeepAlive = false;
    respondError(global, req, res, plan.code, plan.status, plan.message);
    return false;
  }
  return true;
}

function answerBodyTimeout(global: GlobalSpec, req: IncomingMessage, res: ServerResponse): void {
  // The rest of the body may still arrive: the connection cannot carry another request.
  res.shouldKeepAlive = false;
  respondError(global, req, res, 'ERR_BODY_TIMEOUT', 408, `no request body data for ${global.bodyTimeoutMs} ms`);
}

/** A bug, never an expected outcome: answer if we still can. */
export function internalError(global: GlobalSpec, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  log.forward('internal error: %s', (err as Error).stack ?? String(err));
  if (!res.headersSent && !res.destroyed) {
    respondError(global, req, res, 'ERR_WORKER_RESPONSE', 502, 'internal balancer error', err);
  } else res.destroy();
}

type Next =
  | { kind: 'done' }
  | { kind: 'close' }
  | { kind: 'retry' }
  | { kind: 'retry-same' }
  | { kind: 'fail'; code: ErrorCode; status: number; message: string; cause: unknown };

/**
 * One request's attempts: elect → forward → account → decide, until done. Counted in the
 * balancer's `inflight` from the first election until it ends. It is also the owner every attempt's
 * Exchange reports to, so no closure is built per attempt.
 */
class RequestRun implements ExchangeOwner {
  // Read from req once: under Express each req has a map of its own, which no cache holds.
  readonly #client: Socket;
  readonly #method: string;
  readonly #headers: IncomingHttpHeaders;
  #tried: Set<Worker> | undefined; // created on the first retry only
  #attempts = 0;
  #staleRetried = false;
  #pinned: Worker | undefined;
  #worker: Worker | undefined;
  #isRetry = false;
  #ended = false;

  constructor(
    readonly deps: HandlerDeps,
    readonly balancer: Balancer,
    readonly path: string,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly ctx: RequestContext,
    readonly hit: StickyHit | undefined,
    readonly plan: ForwardedPlan,
  ) {
    this.#client = req.socket;
    this.#method = req.method ?? 'GET';
    this.#headers = req.headers;
    balancer.inflight++;
  }

  /** Runs the first attempt; a throw (a bug) is answered and ends the run. */
  start(): void {
    this.#nextSafely();
  }

  /** The next attempt: the pinned worker (stale socket retry) or a new election. */
  #next(): void {
    const pinned = this.#pinned;
    if (pinned) {
      this.#pinned = undefined;
      this.#attempt(pinned);
      return;
    }
    // The socket, not res: a queued pipelined response never closes when the client leaves.
    const sel = selectWaiting(this.balancer, this.hit, this.ctx, this.#tried, this.#client);
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
    if (sel.worker) this.#attempt(sel.worker);
    else {
      if (!this.#client.destroyed) refuse(this.deps.global, this.balancer, this.req, this.res, sel, this.hit);
      this.#end();
    }
  }

  #attempt(worker: Worker): void {
    const { balancer, ctx } = this;
    this.#worker = worker;
    this.#isRetry = ctx.tried.length > 0;
    ctx.worker = worker.name;
    ctx.workerRoute = worker.route;
    ctx.tried.push(worker.name);
    if (this.#isRetry) balancer.retrying++;
    balancer.acquire(worker);
    if (this.#client.destroyed || this.res.destroyed) {
      this.settle({ kind: 'client-aborted', transferred: 0, read: 0 });
      return;
    }
    this.#forward(worker);
  }

  /** One attempt on `worker`: the exchange reports back to this run. */
  #forward(worker: Worker): void {
    const { deps, req, res } = this;
    const { global } = deps;
    const client = this.#client;
    const exchange = new Exchange(req, res, client, worker.connectTimeoutMs, worker.timeoutMs, this);
    const headers = outgoingHeaders(this.#headers, client, {
      host: global.preserveHost ? undefined : worker.host,
      xForwarded: global.xForwarded,
      serverName: global.serverName,
    });
    const agent = deps.agents.get(worker);
    deps.engine.send(
      this.#method,
      client,
      res,
      exchange,
      worker,
      agent,
      this.path,
      headers,
      bodyStream(this.plan, req),
    );
  }

  responseExtras(): readonly string[] {
    return addedHeaders(this.deps.global, this.balancer, this.#worker!, this.ctx);
  }

  settle(outcome: Outcome): void {
    try {
      this.#account(outcome);
    } catch (err) {
      this.#onInternalError(err);
    }
  }

  #account(outcome: Outcome): void {
    const { balancer, req } = this;
    const worker = this.#worker!;
    if ('error' in outcome && isBodyTimeout(outcome.error)) {
      this.#bodyStalled(worker, outcome);
      return;
    }
    balancer.release(worker, outcome, this.#method);
    if (this.#isRetry) balancer.retrying--;
    const next = decide(balancer, req, this.plan, worker, outcome, this.#attempts, this.#staleRetried, () =>
      carriedEarlier(this.#client, this.res),
    );
    switch (next.kind) {
      case 'done':
        this.#end();
        return;
      case 'close':
        log.forward('%s %s -> connection closed without an answer (reused client connection)', req.method, req.url);
        // A queued pipelined response closes the connection once the answers before it are out.
        this.res.destroy();
        this.#end();
        return;
      case 'fail':
        respondError(this.deps.global, req, this.res, next.code, next.status, next.message, next.cause);
        this.#end();
        return;
      case 'retry-same':
        this.#staleRetried = true;
        this.#pinned = worker;
        break;
      case 'retry':
        this.#attempts++;
        (this.#tried ??= new Set()).add(worker);
        break;
    }
    // A fresh stack: the failed attempt may have been reported from inside http-proxy's call.
    process.nextTick(() => {
      this.#nextSafely();
    });
  }

  /** The client stopped sending a streamed body: the worker is not at fault; 408 unless an answer started. */
  #bodyStalled(worker: Worker, outcome: Outcome): void {
    const { transferred, read } = outcome;
    this.balancer.release(worker, { kind: 'client-aborted', transferred, read }, this.#method);
    if (this.#isRetry) this.balancer.retrying--;
    answerBodyTimeout(this.deps.global, this.req, this.res);
    this.#end();
  }

  #nextSafely(): void {
    try {
      this.#next();
    } catch (err) {
      this.#onInternalError(err);
    }
  }

  #onInternalError(err: unknown): void {
    internalError(this.deps.global, this.req, this.res, err);
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.balancer.inflight--;
  }
}

/** Answers 503 for a selection that found no worker, saying why. */
function refuse(
  global: GlobalSpec,
  balancer: Balancer,
  req: IncomingMessage,
  res: ServerResponse,
  sel: Extract<Selection, { worker: undefined }>,
  hit: StickyHit | undefined,
): void {
  if (sel.reason === 'route-unavailable') {
    respondError(
      global,
      req,
      res,
      'ERR_ROUTE_UNAVAILABLE',
      503,
      `${balancer.id}: every worker for route ${hit?.route ?? ''} is unusable`,
    );
  } else if (sel.reason === 'no-worker') {
    respondError(
      global,
      req,
      res,
      'ERR_NO_WORKER',
      503,
      `${balancer.id}: no usable worker`,
      undefined,
      retryAfter(balancer),
    );
  } else {
    respondError(
      global,
      req,
      res,
      'ERR_QUEUE_FULL',
      503,
      `${balancer.id}: every worker is at its connection limit${sel.reason === 'queue-full' ? ' and the queue is full' : ''}`,
      undefined,
      { 'retry-after': '1' },
    );
  }
}

/** Seconds until the first worker in error may be retried, as a Retry-After header. */
function retryAfter(balancer: Balancer): Record<string, string> | undefined {
  const now = balancer.clock.now();
  let soonest = Infinity;
  for (const w of balancer.workers) {
    if (w.inError && !w.stopped) soonest = Math.min(soonest, w.errorTime + w.errorRetryMs - now);
  }
  return Number.isFinite(soonest) ? { 'retry-after': String(Math.max(1, Math.ceil(soonest / 1000))) } : undefined;
}

/**
 * What to do after an attempt. A connect failure moves on while the worker is now unusable
 * (Apache; `+I` workers stay usable, so no failover). A failure after the request was sent moves
 * on only for requests the balancer may re-send. Every retry needs an attempt left, a replayable
 * body and room in the retry budget.
 */
function decide(
  balancer: Balancer,
  req: IncomingMessage,
  plan: BodyPlan,
  worker: Worker,
  outcome: Outcome,
  attempts: number,
  staleRetried: boolean,
  clientReused: () => boolean,
): Next {
  // The common endings first: nothing below is built for them.
  if (outcome.kind === 'completed' || outcome.kind === 'truncated') {
    afterResponse(balancer, worker, outcome);
    return DONE;
  }
  if (outcome.kind === 'client-aborted') return DONE;
  const canRetry = (): boolean => isReplayable(plan) && attempts < balancer.maxAttempts && balancer.retryAllowed();
  const mayResend = (): boolean =>
    ((balancer.retryon === 'idempotent' && IDEMPOTENT.has(req.method ?? '')) || balancer.replay?.(req) === true) &&
    canRetry();
  switch (outcome.kind) {
    case 'connect-failed':
      balancer.markError(worker, `connect failed: ${errorCode(outcome.error)}`);
      if (!worker.isUsable() && canRetry()) return { kind: 'retry' };
      return fail('ERR_WORKER_CONNECT', 503, worker, outcome.error);
    case 'stale-socket':
      // The worker closed an idle keep-alive socket as we reused it: it never saw the request.
      if (
        !staleRetried &&
        isReplayable(plan) &&
        (IDEMPOTENT.has(req.method ?? '') || balancer.replay?.(req) === true)
      ) {
        return { kind: 'retry-same' };
      }
      return mayResend() ? { kind: 'retry' } : fail('ERR_WORKER_RESPONSE', 502, worker, outcome.error);
    case 'timeout':
      if (balancer.failontimeout) balancer.markError(worker, 'response timeout (failontimeout)');
      return mayResend() ? { kind: 'retry' } : fail('ERR_WORKER_TIMEOUT', 504, worker, outcome.error);
    case 'failed':
      if (closedUnanswered(outcome.error) && clientReused()) {
        // Apache: the worker is put in error, and the client's connection closed without an answer,
        // which a client may retry since its connection carried an earlier request (RFC 9112 §9.3.1).
        balancer.markError(worker, 'closed the connection without answering');
        return mayResend() ? { kind: 'retry' } : CLOSE;
      }
      return mayResend() ? { kind: 'retry' } : fail('ERR_WORKER_RESPONSE', 502, worker, outcome.error);
  }
}

const DONE: Next = Object.freeze({ kind: 'done' });
const CLOSE: Next = Object.freeze({ kind: 'close' });

/** The worker closed or reset its connection before any response byte (not garbage, not a bad head). */
function closedUnanswered(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** Length of the `100 Continue` Node's server writes itself for a request that expects one. */
const CONTINUE_BYTES = 'HTTP/1.1 100 Continue\r\n\r\n'.length;

/**
 * The client's connection carried a request before this one: an answer to it went out (bytes
 * written before this request's own answer, which has not started), or is still going out (this
 * pipelined response waits for the socket).
 */
function carriedEarlier(client: Socket, res: ServerResponse): boolean {
  if (res.socket !== client) return true;
  const own = (res as { _sent100?: boolean })._sent100 === true ? CONTINUE_BYTES : 0;
  return client.bytesWritten > own;
}

function fail(code: ErrorCode, status: number, worker: Worker, error: Error): Next {
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

/** Headers the balancer adds to the worker's response: the X-Balancer-* context and the route cookie. */
const NO_HEADERS: readonly string[] = Object.freeze([]);

function addedHeaders(global: GlobalSpec, balancer: Balancer, worker: Worker, ctx: RequestContext): readonly string[] {
  const rc = balancer.routecookie;
  const cookie = rc !== undefined && ctx.routeChanged && worker.route !== '';
  if (!global.exposeHeaders && !cookie) return NO_HEADERS;
  const out: string[] = global.exposeHeaders ? Object.entries(contextHeaders(ctx)).flat() : [];
  if (cookie) {
    out.push('Set-Cookie', routeSetCookie(rc, balancer.id, balancer.stickysessionsep ?? '.', worker.route));
  }
  return out;
}
