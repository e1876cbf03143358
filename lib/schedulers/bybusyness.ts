/**
 * bybusyness: fewest requests in flight, exactly Apache's mod_lbmethod_bybusyness.
 *
 * Every candidate is credited like byrequests (lbstatus += lbfactor); the winner is the one with the
 * lowest busy count, and on equal busy the higher credit (then config order). The winner is debited
 * by the total. With everyone idle this is byrequests. Unlike Apache, reset() does not zero `busy`:
 * busy is live accounting of requests in flight, and zeroing it would drive it negative on release.
 */
import { defineScheduler } from './types.js';

export const bybusyness = defineScheduler(() => ({
  pick(candidates) {
    let best = candidates[0]!;
    let total = 0;
    for (const w of candidates) {
      w.lbstatus += w.lbfactor;
      total += w.lbfactor;
      if (w.busy < best.busy || (w.busy === best.busy && w.lbstatus > best.lbstatus)) best = w;
    }
    best.lbstatus -= total;
    return best;
  },
  reset(workers) {
    for (const w of workers) w.lbstatus = 0;
  },
}));
