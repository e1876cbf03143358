import type { Balancer } from '../core/balancer.js';
import type { Worker } from '../core/worker.js';
import type { StickyHit } from '../core/sticky.js';
import type { RequestContext } from '../core/context.js';
import { electBalanced, selectWorker, type Selection } from '../core/select.js';

/** The client side of a request: a ServerResponse or an upgraded socket. */
export interface ClientEnd {
  readonly destroyed: boolean;
  once(event: 'close', fn: () => void): unknown;
  off(event: 'close', fn: () => void): unknown;
}

/**
 * One selection; when the scheduler finds no usable worker and the balancer has a `timeout`,
 * waits for one (woken by state changes and retry times, not by polling) until the timeout, or
 * until the client goes away. Like Apache, only the scheduler path is re-run while waiting.
 */
export async function selectWaiting(
  balancer: Balancer,
  hit: StickyHit | undefined,
  ctx: RequestContext,
  tried: ReadonlySet<Worker>,
  client: ClientEnd,
): Promise<Selection> {
  let sel = selectWorker(balancer, hit, ctx, tried);
  if (sel.worker || sel.reason !== 'no-worker' || balancer.timeoutMs === 0) return sel;
  const deadline = balancer.clock.now() + balancer.timeoutMs;
  while (!sel.worker && balancer.clock.now() < deadline && !client.destroyed) {
    const wait = balancer.waitForChange(deadline);
    client.once('close', wait.cancel);
    await wait.done;
    client.off('close', wait.cancel);
    sel = electBalanced(balancer, ctx, tried);
  }
  return sel;
}
