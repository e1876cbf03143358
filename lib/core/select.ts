import type { Balancer } from './balancer.js';
import type { Worker } from './worker.js';
import type { RequestContext } from './context.js';
import type { StickyHit } from './sticky.js';
import { currentElection, elect } from './election.js';
import { findRouteWorker, routeHasOwner } from './route-worker.js';
import { log } from '../debug.js';

export type Selection =
  | { worker: Worker; via: 'route' | 'scheduler' }
  | { worker: undefined; reason: 'route-unavailable' | 'no-worker' | 'full' | 'queue-full' };

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
  balancer.forceRecovery();
  if (hit && hit.route !== '') {
    const routed = findRouteWorker(balancer, hit.route, avoid);
    if (routed?.full) return { worker: undefined, reason: 'full' };
    if (routed) {
      chargeStickyHit(balancer, routed);
      routed.elected++;
      if (routed.route !== hit.route) ctx.routeChanged = true;
      if (log.route.enabled) log.route('%s route %s -> %s', balancer.id, hit.route, routed.name);
      return { worker: routed, via: 'route' };
    }
    if (balancer.nofailover && routeHasOwner(balancer, hit.route)) {
      log.route('%s route %s: its workers are unusable and nofailover is on', balancer.id, hit.route);
      return { worker: undefined, reason: 'route-unavailable' };
    }
  }
  return electBalanced(balancer, ctx, avoid);
}

/** The scheduler path alone (also what the balancer timeout re-runs while it waits). */
export function electBalanced(
  balancer: Balancer,
  ctx: RequestContext,
  avoid: ReadonlySet<Worker> | undefined,
): Selection {
  const chosen = elect(balancer, avoid);
  if (chosen === 'full') return { worker: undefined, reason: 'full' };
  if (!chosen) return { worker: undefined, reason: 'no-worker' };
  chosen.elected++;
  // The client sent no usable route, or its worker is gone: it should be told the new one.
  if (balancer.sticky || balancer.routecookie) ctx.routeChanged = true;
  if (log.select.enabled) log.select('%s elected %s (lbstatus %d)', balancer.id, chosen.name, chosen.lbstatus);
  return { worker: chosen, via: 'scheduler' };
}

/**
 * Apache's default updatelbstatus for a sticky hit: every usable worker is credited its lbfactor
 * and the routed one is debited the total, so sticky and balanced traffic stay proportional.
 */
function chargeStickyHit(balancer: Balancer, routed: Worker): void {
  // The usable workers are the cached group plus `others`, so a scheduler keeping lazy credits over
  // the group credits it at once; the others are credited here, one by one.
  const s = balancer.scheduler;
  const c = s.chargeSticky === undefined ? undefined : currentElection(balancer);
  if (c?.group !== undefined && s.chargeSticky!(c.group, routed, c.usableTotal)) {
    for (const w of c.others) w.lbstatus += w.lbfactor;
    return;
  }
  let total = 0;
  for (const w of balancer.workers) {
    if (w.isUsable()) {
      w.lbstatus += w.lbfactor;
      total += w.lbfactor;
    }
  }
  routed.lbstatus -= total;
}
