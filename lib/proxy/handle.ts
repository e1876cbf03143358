import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { GlobalSpec } from '../config/global-spec.js';
import type { Outcome } from '../forward/outcome.js';
import type { RequestContext } from '../model/context.js';
import type { Forwarder, ForwardRequest } from '../forward/forwarder.js';
import { contextHeaders } from '../model/context.js';
import { routeSetCookie } from '../model/route-cookie.js';
import { beginRequest } from './select-wait.js';
import {
  readBody,
  bodyStream,
  isReplayable,
  type BodyPlan,
  type BodySource,
  type ForwardedPlan,
} from '../forward/body.js';
import type { Selection } from '../balancer/select.js';
import { log } from '../debug.js';
import type { StickyHit } from '../model/sticky.js';
import { respondError } from './respond.js';
import { Failover, type Answer, type AttemptSide } from './failover.js';
import { RequestRecord } from './request-record.js';
import type { ReverseMap } from '../forward/reverse.js';

export interface HandlerDeps {
  global: GlobalSpec;
  forwarder: Forwarder;
}

/**
 * An HTTP request, top-down: the route and body first, then the attempts (proxy/failover.ts:
 * select → forward → account → fail over). Synchronous until the worker answers whenever nothing
 * has to wait (no body to read, a worker free).
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
  const record = RequestRecord.begin(balancer, req, res, ctx);
  const plan = readBody(req, headers, global.replayBufferBytes, global.bodyTimeoutMs);
  if (!(plan instanceof Promise)) {
    run(deps, balancer, path, req, res, ctx, hit, plan, record);
    return;
  }
  plan
    .then((p) => {
      run(deps, balancer, path, req, res, ctx, hit, p, record);
    })
    .catch((err: unknown) => {
      internalError(global, req, res, err);
      record?.end();
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
  record: RequestRecord | undefined,
): void {
  if (admitted(deps.global, req, res, plan))
    new HttpRequest(deps, balancer, path, req, res, ctx, hit, plan, record).start();
  else record?.end();
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

/**
 * One HTTP request as its attempts see it: what the Failover loop sends (through the Forwarder)
 * and how it answers. Also the ForwardRequest every attempt's exchange reports to, so no closure
 * or description is built per attempt.
 */
class HttpRequest implements AttemptSide, ForwardRequest {
  readonly slot = 'request';
  // Read from req once: under Express each req has a map of its own, which no cache holds.
  readonly client: Socket;
  readonly method: string;
  /** The client's headers, with the attempt's trace context when a tracer follows the request. */
  headers: IncomingHttpHeaders;
  readonly replayable: boolean;
  readonly resendable = true;
  readonly #failover: Failover;

  constructor(
    readonly deps: HandlerDeps,
    readonly balancer: Balancer,
    readonly path: string,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly ctx: RequestContext,
    hit: StickyHit | undefined,
    readonly plan: ForwardedPlan,
    readonly record: RequestRecord | undefined,
  ) {
    this.client = req.socket;
    this.method = req.method ?? 'GET';
    this.headers = req.headers;
    this.replayable = isReplayable(plan);
    this.#failover = new Failover(balancer, ctx, hit, this);
  }

  start(): void {
    this.#failover.start();
  }

  reachable(): boolean {
    return !this.client.destroyed && !this.res.destroyed;
  }

  admit(): boolean {
    return true;
  }

  takes(): boolean {
    return true;
  }

  send(worker: Worker): void {
    if (this.record) this.headers = this.record.outgoing(this.req.headers);
    this.deps.forwarder.forward(worker, this);
  }

  body(): BodySource {
    return bodyStream(this.plan, this.req);
  }

  get reverse(): ReverseMap | undefined {
    const b = this.balancer;
    return b.proxypassreverse ? { mount: b.mount, path: b.path } : undefined;
  }

  responseExtras(status: number): readonly string[] {
    this.record?.responseHead(status);
    return addedHeaders(this.deps.global, this.balancer, this.#failover.worker!, this.ctx);
  }

  settle(outcome: Outcome): void {
    this.#failover.settle(outcome);
  }

  refuse(sel: Extract<Selection, { worker: undefined }>): void {
    refuse(this.deps.global, this.balancer, this.req, this.res, sel, this.#failover.hit);
  }

  answer(answer: Answer): void {
    const { req, res } = this;
    const { global } = this.deps;
    if (answer.kind === 'stalled') answerBodyTimeout(global, req, res);
    else if (answer.kind === 'fail') {
      respondError(global, req, res, answer.code, answer.status, answer.message, answer.cause);
    } else {
      log.forward('%s %s -> connection closed without an answer (reused client connection)', req.method, req.url);
      // A queued pipelined response closes the connection once the answers before it are out.
      res.destroy();
    }
  }

  clientReused(): boolean {
    return carriedEarlier(this.client, this.res);
  }

  internalError(err: unknown): void {
    internalError(this.deps.global, this.req, this.res, err);
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
