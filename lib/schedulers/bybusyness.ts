/**
 * bybusyness: fewest requests in flight, exactly Apache's mod_lbmethod_bybusyness.
 *
 * Every candidate is credited like byrequests (lbstatus += lbfactor); the winner is the one with the
 * lowest busy count, and on equal busy the higher credit (then config order). The winner is debited
 * by the total. With everyone idle this is byrequests. Unlike Apache, reset() does not zero `busy`:
 * busy is live accounting of requests in flight, and zeroing it would drive it negative on release.
 */
import type { Worker } from '../core/worker.js';
import { defineScheduler } from './types.js';

/**
 * Requests in flight, scaled up while a slow-start ramp lowers the weight so a warming worker
 * counts as busier than it is. Without a ramp it is exactly `busy` (Apache's comparison).
 */
function load(w: Worker): number {
  return w.weight === w.lbfactor ? w.busy : (w.busy * w.lbfactor) / w.weight;
}

export const bybusyness = defineScheduler(() => ({
  pick(candidates) {
    let best = candidates[0]!;
    let total = 0;
    for (const w of candidates) {
      w.lbstatus += w.weight;
      total += w.weight;
      const l = load(w);
      const lb = load(best);
      if (l < lb || (l === lb && w.lbstatus > best.lbstatus)) best = w;
    }
    best.lbstatus -= total;
    return best;
  },
  reset(workers) {
    for (const w of workers) w.lbstatus = 0;
  },
}));
