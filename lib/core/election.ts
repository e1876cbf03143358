import type { Balancer } from './balancer.js';
import type { Worker } from './worker.js';
import { refreshRamp } from '../health/ramp.js';

/**
 * The generic election, shared by every scheduler (Apache's ap_proxy_balancer_get_best_worker).
 *
 * lbsets are tried lowest first. In a tier, usable regular workers are candidates; a draining,
 * unusable or already-tried regular worker is a "hole", and hot spares (R) fill at most that many
 * holes, in config order, competing with the regular workers. Only when a tier has no candidate do
 * its hot standbys (H) compete among themselves; only then is the next tier tried. Workers in error
 * get their retry check on the way. The scheduler ranks the first non-empty group it is given.
 * Workers at their `max` are skipped; if that leaves a tier empty the answer is 'full' (wait for a
 * slot) rather than a fall-back to standbys or the next tier, which are for failures, not load.
 */
export function elect(balancer: Balancer, avoid: ReadonlySet<Worker> | undefined): Worker | 'full' | undefined {
  for (const tier of balancer.tiers()) {
    const candidates: Worker[] = [];
    const spares: Worker[] = [];
    const standbys: Worker[] = [];
    let holes = 0;
    let full = 0;
    for (const w of tier) {
      if (w.draining) {
        if (!w.spare && !w.standby) holes++;
        continue;
      }
      if (!w.isUsable()) balancer.retryWorker(w);
      if (w.busy >= w.max && w.isUsable() && !avoid?.has(w)) {
        // At its connection limit: healthy, so not a hole for spares, and not a reason to fall back.
        full++;
        continue;
      }
      const usable = w.isUsable() && !avoid?.has(w);
      // Slow start: the scheduler reads w.weight, which only differs from lbfactor during a ramp.
      if (usable && w.ramp) refreshRamp(w, balancer.clock.now());
      if (w.spare) {
        if (usable) spares.push(w);
      } else if (w.standby) {
        if (usable) standbys.push(w);
      } else if (usable) {
        candidates.push(w);
      } else {
        holes++;
      }
    }
    for (let i = 0; i < spares.length && i < holes; i++) candidates.push(spares[i]!);
    if (candidates.length > 0) return balancer.scheduler.pick(candidates);
    if (full > 0) return 'full';
    if (standbys.length > 0) return balancer.scheduler.pick(standbys);
  }
  return undefined;
}
