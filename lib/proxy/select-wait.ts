import type { Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { StickyHit } from '../model/sticky.js';
import type { RequestContext } from '../model/context.js';
import type { IncomingMessage } from 'node:http';
import { electBalanced, selectWorker, type Selection } from '../balancer/select.js';
import { createContext } from '../model/context.js';
import { resolveSticky } from '../model/sticky.js';
import { attachContext } from './req-context.js';
import { hashKeyOf } from './hash-key.js';
import { onClientClose, offClientClose, type ClientSocket } from '../forward/client-close.js';

/**
 * A request's context (Apache's BALANCER_* values, on req.balancer) with the session route it
 * carries, if any: the same start for HTTP requests and WebSocket upgrades.
 */
export function beginRequest(
  balancer: Balancer,
  req: IncomingMessage,
  url: string,
  cookie: string | undefined,
): { ctx: RequestContext; hit: StickyHit | undefined } {
  const ctx = createContext(balancer.id);
  attachContext(req, ctx);
  const hit = resolveSticky(url, cookie, balancer);
  if (hit) {
    ctx.sessionSticky = hit.sticky;
    ctx.sessionRoute = hit.route;
  }
  const key = hashKeyOf(balancer.lbmethod, balancer.hashkey, req, url, cookie);
  if (key !== undefined) ctx.hashKey = key;
  return { ctx, hit };
}

/** The client side of a request: its connection (a socket, or an upgraded one). */
export interface ClientEnd extends ClientSocket {
  readonly destroyed: boolean;
}

/**
 * One selection, waiting when it finds nothing: for a usable worker up to the balancer's `timeout`
 * (like Apache, only the scheduler path is re-run, woken by state changes and retry times rather
 * than by polling), or, when every candidate is at its `max`, in the balancer's FIFO queue up to
 * the queue timeout. Stops waiting when the client goes away. A selection that needs no wait is
 * returned as it is (no promise, no microtask): the common case.
 */
export function selectWaiting(
  balancer: Balancer,
  hit: StickyHit | undefined,
  ctx: RequestContext,
  tried: ReadonlySet<Worker> | undefined,
  client: ClientEnd,
): Selection | Promise<Selection> {
  const sel = selectWorker(balancer, hit, ctx, tried);
  if (sel.worker) return sel;
  if (sel.reason === 'full') return waitForSlot(balancer, hit, ctx, tried, client);
  if (sel.reason !== 'no-worker' || balancer.timeoutMs === 0) return sel;
  return waitForWorker(balancer, hit, ctx, tried, client, sel);
}

async function waitForWorker(
  balancer: Balancer,
  hit: StickyHit | undefined,
  ctx: RequestContext,
  tried: ReadonlySet<Worker> | undefined,
  client: ClientEnd,
  first: Selection,
): Promise<Selection> {
  let sel = first;
  const deadline = balancer.clock.now() + balancer.timeoutMs;
  while (!sel.worker && sel.reason === 'no-worker' && balancer.clock.now() < deadline && !client.destroyed) {
    await until(balancer.waitForChange(deadline), client);
    sel = electBalanced(balancer, ctx, tried);
  }
  return sel.worker || sel.reason !== 'full' ? sel : waitForSlot(balancer, hit, ctx, tried, client);
}

async function waitForSlot(
  balancer: Balancer,
  hit: StickyHit | undefined,
  ctx: RequestContext,
  tried: ReadonlySet<Worker> | undefined,
  client: ClientEnd,
): Promise<Selection> {
  const deadline = balancer.clock.now() + balancer.queue.timeoutMs;
  let sel: Selection = { worker: undefined, reason: 'full' };
  while (!sel.worker && sel.reason === 'full' && balancer.clock.now() < deadline && !client.destroyed) {
    const wait = balancer.waitForSlot(deadline);
    if (!wait) return { worker: undefined, reason: 'queue-full' };
    await until(wait, client);
    sel = selectWorker(balancer, hit, ctx, tried);
  }
  return sel;
}

/**
 * Waits for `wait`, ended early by the client leaving. Watched through the connection's one shared
 * 'close' listener: pipelined requests queued on one connection would otherwise add one each.
 */
async function until(wait: { done: Promise<void>; cancel: () => void }, client: ClientEnd): Promise<void> {
  const watcher = { clientClosed: wait.cancel };
  onClientClose(client, watcher);
  await wait.done;
  offClientClose(client, watcher);
}
