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
 *
 * Cost. That scan is O(n) per pick. For the election's cached group (lib/select/election.ts: the
 * same CandidateGroup while the candidates do not change) the same arithmetic runs on lazy credits
 * (credits.ts): lbstatus = base + weight × picks, one heap by base per distinct weight, so a pick
 * compares k class leaders and re-heaps the winner, O(k + log n), O(log n) with equal weights.
 * It is exact, not an approximation: the same winner and the same lbstatus after every pick (the
 * worked example above is replayed in credits.ts). The first time a group is seen it is scanned
 * (a group that lives for one pick is not worth a structure); a retry's avoid set and slow-start
 * ramps also take the scan, and any outside write to lbstatus hands the values back first.
 */
import type { Candidate } from './types.js';
import { CreditCache } from './credits.js';
import { defineScheduler } from './types.js';

// Weights are w.weight: lbfactor, or less while a slow-start ramp is active.

/** Apache's loop, as is. */
function scan<C extends Candidate>(candidates: readonly C[]): C {
  let best = candidates[0]!;
  let total = 0;
  for (const w of candidates) {
    w.lbstatus += w.weight;
    total += w.weight;
    if (w.lbstatus > best.lbstatus) best = w;
  }
  best.lbstatus -= total;
  return best;
}

export const byrequests = defineScheduler(() => {
  const credits = new CreditCache(false, false);
  return {
    pick(candidates) {
      // The scan writes lbstatus: the lazy credits go back into the workers first.
      credits.settle();
      return scan(candidates);
    },
    pickCached(group) {
      const s = credits.for(group);
      return s === undefined ? scan(group.workers) : group.workers[s.pick()]!;
    },
    chargeSticky(group, routed, total) {
      return credits.chargeSticky(group, routed, total);
    },
    lbstatus: (w) => credits.lbstatusOf(w),
    settle: () => credits.settle(),
    reset(workers) {
      credits.settle();
      for (const w of workers) w.lbstatus = 0;
    },
  };
});
