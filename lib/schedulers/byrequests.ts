/**
 * byrequests: weighted request counting, exactly Apache's mod_lbmethod_byrequests.
 *
 * Each pick credits every candidate with its lbfactor, elects the first candidate with the
 * highest credit (strict ">", so ties go to config order), then debits the winner by the total
 * credited, so the sum of credits stays constant. Workers that are not candidates keep their
 * credit frozen. With loadfactors a=1 b=1 c=1 d=2 (lbfactor 100,100,100,200) from zero:
 *
 *   credits after +=        pick   after -=500
 *   100  100  100  200       d     100  100  100 -300
 *   200  200  200 -100       a    -300  200  200 -100
 *  -200  300  300  100       b    -200 -200  300  100
 *  -100 -100  400  300       c    -100 -100 -100  300
 *     0    0    0  500       d       0    0    0    0   → d a b c d, then again
 */
import { defineScheduler } from './types.js';

// Weights are w.weight: lbfactor, or less while a slow-start ramp is active (lib/health/ramp.ts).

export const byrequests = defineScheduler(() => ({
  pick(candidates) {
    let best = candidates[0]!;
    let total = 0;
    for (const w of candidates) {
      w.lbstatus += w.weight;
      total += w.weight;
      if (w.lbstatus > best.lbstatus) best = w;
    }
    best.lbstatus -= total;
    return best;
  },
  reset(workers) {
    for (const w of workers) w.lbstatus = 0;
  },
}));
