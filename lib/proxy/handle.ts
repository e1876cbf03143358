import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Balancer } from '../core/balancer.js';
import type { Worker } from '../core/worker.js';
import type { GlobalSpec } from '../config/global-spec.js';
import type { Outcome } from '../forward/outcome.js';
import type { RequestContext } from '../core/context.js';
import type { ProxyEngine } from '../forward/http-proxy.js';
import type { AgentPool } from '../forward/agents.js';
import { createContext, contextHeaders } from '../core/context.js';
import { resolveSticky } from '../core/sticky.js';
import { routeSetCookie } from '../core/route-cookie.js';
import { selectWaiting } from './select-wait.js';
import { readBody, bodyStream, isReplayable, type BodyPlan } from '../forward/body.js';
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
 * the request moves on while the worker is unusable and attempts remain; anything that reached a
 * worker is never replayed elsewhere.
 */
export async function handleRequest(
  deps: HandlerDeps,
  balancer: Balancer,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { global } = deps;
  const ctx = createContext(balancer.id);
  req.balancer = ctx;
  const hit = resolveSticky(req.url ?? '/', req.headers.cookie, balancer);
  if (hit) {
    ctx.sessionSticky = hit.sticky;
    ctx.sessionRoute = hit.route;
  }
  const plan = await readBody(req, global.replayBufferBytes);
  if (plan.kind === 'aborted') return;
  if (plan.kind === 'consumed') {
    respondError(global, req, res, 'ERR_BODY_CONSUMED', 500,
      'the request body was read before the balancer (mount balancer() before body parsers, or keep req.rawBody)');
    return;
  }
  const tried = new Set<Worker>();
  let attempts = 0;
  let staleRetried = false;
  let pinned: Worker | undefined;
  for (;;) {
    let worker = pinned;
    pinned = undefined;
    if (!worker) {
      const sel = await selectWaiting(balancer, hit, ctx, tried, res);
      if (res.destroyed) return;
      if (!sel.worker) {
        const routeGone = sel.reason === 'route-unavailable';
        respondError(global, req, res, routeGone ? 'ERR_ROUTE_UNAVAILABLE' : 'ERR_NO_WORKER', 503,
          routeGone ? `${balancer.id}: every worker for route ${hit?.route ?? ''} is unusable` : `${balancer.id}: no usable worker`);
        return;
      }
      worker = sel.worker;
    }
    ctx.worker = worker.name;
    ctx.workerRoute = worker.route;
    ctx.tried.push(worker.name);
    balancer.acquire(worker);
    const outcome = await forward(deps, balancer, req, res, worker, path, plan, ctx);
    balancer.release(worker, outcome, req.method ?? 'GET');
    switch (outcome.kind) {
      case 'connect-failed':
        balancer.markError(worker, `connect failed: ${errorCode(outcome.error)}`);
        tried.add(worker);
        if (!worker.isUsable() && attempts++ < balancer.maxAttempts && isReplayable(plan)) continue;
        respondError(global, req, res, 'ERR_WORKER_CONNECT', 503, `${worker.name}: ${outcome.error.message}`, outcome.error);
        return;
      case 'stale-socket':
        // The worker closed an idle keep-alive socket as we reused it: it never saw the request.
        if (!staleRetried && IDEMPOTENT.has(req.method ?? '') && isReplayable(plan)) {
          staleRetried = true;
          pinned = worker;
          continue;
        }
        respondError(global, req, res, 'ERR_WORKER_RESPONSE', 502, `${worker.name}: ${outcome.error.message}`, outcome.error);
        return;
      case 'timeout':
        if (balancer.failontimeout) balancer.markError(worker, 'response timeout (failontimeout)');
        respondError(global, req, res, 'ERR_WORKER_TIMEOUT', 504, `${worker.name}: no response within ${worker.timeoutMs} ms`, outcome.error);
        return;
      case 'failed':
        respondError(global, req, res, 'ERR_WORKER_RESPONSE', 502, `${worker.name}: ${outcome.error.message}`, outcome.error);
        return;
      case 'client-aborted':
        return;
      case 'completed':
      case 'truncated':
        afterResponse(balancer, worker, outcome);
        return;
    }
  }
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
function addedHeaders(global: GlobalSpec, balancer: Balancer, worker: Worker, ctx: RequestContext): string[] {
  const out: string[] = global.exposeHeaders ? Object.entries(contextHeaders(ctx)).flat() : [];
  const rc = balancer.routecookie;
  if (rc && ctx.routeChanged && worker.route !== '') {
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
  if (res.destroyed) return Promise.resolve({ kind: 'client-aborted', transferred: 0, read: 0 });
  return new Promise<Outcome>((settle) => {
    const exchange = new Exchange(req, res, {
      connectTimeoutMs: worker.connectTimeoutMs,
      timeoutMs: worker.timeoutMs,
      onHead: () => addedHeaders(global, balancer, worker, ctx),
    }, settle);
    const headers = outgoingHeaders(req, {
      host: global.preserveHost ? undefined : worker.url.host,
      xForwarded: global.xForwarded,
      serverName: global.serverName,
    });
    deps.engine.send(req, res, exchange, {
      protocol: worker.url.protocol === 'https:' ? 'https:' : 'http:',
      hostname: worker.url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(worker.url.port) || (worker.url.protocol === 'https:' ? 443 : 80),
      basePath: worker.basePath,
      agent: deps.agents.get(worker),
      secure: worker.tls?.rejectUnauthorized ?? true,
    }, path, headers, bodyStream(plan, req));
  });
}
