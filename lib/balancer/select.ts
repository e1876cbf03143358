import type { Balancer } from './balancer.js';
import type { Worker } from '../core/worker.js';
import type { RequestContext } from '../model/context.js';
import type { StickyHit } from '../model/sticky.js';
import type { Selection } from '../select/selector.js';

export type { Selection } from '../select/selector.js';

/**
 * One selection, run for every attempt of a request (Apache's proxy_balancer_pre_request):
 * forced recovery, then the sticky route, then the scheduler. Updates `ctx` like Apache's env.
 */
export function selectWorker(
  balancer: Balancer,
  hit: StickyHit | undefined,
  ctx: RequestContext,
  avoid: ReadonlySet<Worker> | undefined,
): Selection {
  return balancer.selector.select(hit, ctx, avoid);
}

/** The scheduler path alone (also what the balancer timeout re-runs while it waits). */
export function electBalanced(
  balancer: Balancer,
  ctx: RequestContext,
  avoid: ReadonlySet<Worker> | undefined,
): Selection {
  return balancer.selector.electBalanced(ctx, avoid);
}
