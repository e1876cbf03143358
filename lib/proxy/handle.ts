import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Balancer } from '../core/balancer.js';
import type { Worker } from '../core/worker.js';
import type { GlobalSpec } from '../config/global-spec.js';
import type { Outcome } from '../forward/outcome.js';
import type { RequestContext } from '../core/context.js';
import { engineTarget, type ProxyEngine } from '../forward/http-proxy.js';
import type { AgentPool } from '../forward/agents.js';
import { contextHeaders } from '../core/context.js';
import { routeSetCookie } from '../core/route-cookie.js';
import { beginRequest, selectWaiting } from './select-wait.js';
import { readBody, bodyStream, isReplayable, type BodyPlan } from '../forward/body.js';
import type { StickyHit } from '../core/sticky.js';
import type { ErrorCode } from '../errors.js';
import { outgoingHeaders } from '../forward/headers.js';
import { Exchange } from '../forward/exchange.js';
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
 */
export async function handleRequest(
  deps: HandlerDeps,
  balancer: Balancer,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { global } = deps;
  const { ctx, hit } = beginRequest(balancer, req);
  const plan = await readBody(req, global.replayBufferBytes, global.bodyTimeoutMs);
  if (plan.kind === 'aborted') return;
  if (plan.kind === 'consumed') {
    respondError(
      global,
      req,
      res,
      'ERR_BODY_CONSUMED',
      500,
      'the request body was read before the balancer (mount balancer() before body parsers, or keep req.rawBody)',
    );
    return;
  }
  if (plan.kind === 'timeout') {
    // The rest of the body may still arrive: the connection cannot carry another request.
    res.shouldKeepAlive = false;
    respondError(global, req, res, 'ERR_BODY_TIMEOUT', 408, `no request body data for ${global.bodyTimeoutMs} ms`);
    return;
  }
  balancer.inflight++;
  try {
    await attemptLoop(deps, balancer, path, req, res, ctx, hit, plan);
  } finally {
    balancer.inflight--;
  }
}

type Next =
  | { kind: 'done' }
  | { kind: 'retry' }
  | { kind: 'retry-same' }
  | { kind: 'fail'; code: ErrorCode; status: number; message: string; cause: unknown };

async function attemptLoop(
  deps: HandlerDeps,
  balancer: Balancer,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  hit: StickyHit | undefined,
  plan: BodyPlan,
): Promise<void> {
  let tried: Set<Worker> | undefined; // created on the first retry only
  let attempts = 0;
  let staleRetried = false;
  let pinned: Worker | undefined;
  for (;;) {
    const worker = pinned ?? (await choose(deps.global, balancer, req, res, ctx, hit, tried));
    if (!worker) return;
    pinned = undefined;
    const isRetry = ctx.tried.length > 0;
    ctx.worker = worker.name;
    ctx.workerRoute = worker.route;
    ctx.tried.push(worker.name);
    if (isRetry) balancer.retrying++;
    balancer.acquire(worker);
    const outcome = await forward(deps, balancer, req, res, worker, path, plan, ctx);
    balancer.release(worker, outcome, req.method ?? 'GET');
    if (isRetry) balancer.retrying--;
    const next = decide(balancer, req, plan, worker, outcome, attempts, staleRetried);
    switch (next.kind) {
      case 'done':
        return;
      case 'fail':
        respondError(deps.global, req, res, next.code, next.status, next.message, next.cause);
        return;
      case 'retry-same':
        staleRetried = true;
        pinned = worker;
        break;
      case 'retry':
        attempts++;
        (tried ??= new Set()).add(worker);
        break;
    }
  }
}

/** Elects a worker, waiting if the balancer says so; answers 503 itself when there is none. */
async function choose(
  global: GlobalSpec,
  balancer: Balancer,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  hit: StickyHit | undefined,
  tried: ReadonlySet<Worker> | undefined,
): Promise<Worker | undefined> {
  // The socket, not res: a queued pipelined response never closes when the client leaves.
  const sel = await selectWaiting(balancer, hit, ctx, tried, req.socket);
  if (sel.worker || req.socket.destroyed) return sel.worker;
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
  return undefined;
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
): Next {
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
      return mayResend() ? { kind: 'retry' } : fail('ERR_WORKER_RESPONSE', 502, worker, outcome.error);
    case 'client-aborted':
      return { kind: 'done' };
    case 'completed':
    case 'truncated':
      afterResponse(balancer, worker, outcome);
      return { kind: 'done' };
  }
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

function forward(
  deps: HandlerDeps,
  balancer: Balancer,
  req: IncomingMessage,
  res: ServerResponse,
  worker: Worker,
  path: string,
  plan: BodyPlan,
  ctx: RequestContext,
): Promise<Outcome> {
  const { global } = deps;
  if (res.destroyed || req.socket.destroyed)
    return Promise.resolve({ kind: 'client-aborted', transferred: 0, read: 0 });
  return new Promise<Outcome>((settle) => {
    const exchange = new Exchange(
      req,
      res,
      {
        connectTimeoutMs: worker.connectTimeoutMs,
        timeoutMs: worker.timeoutMs,
        onHead: () => addedHeaders(global, balancer, worker, ctx),
      },
      settle,
    );
    const headers = outgoingHeaders(req, {
      host: global.preserveHost ? undefined : worker.url.host,
      xForwarded: global.xForwarded,
      serverName: global.serverName,
    });
    deps.engine.send(
      req,
      res,
      exchange,
      engineTarget(worker, deps.agents.get(worker)),
      path,
      headers,
      bodyStream(plan, req),
    );
  });
}
