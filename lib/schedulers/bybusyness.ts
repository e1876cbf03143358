/**
 * bybusyness: fewest requests in flight, exactly Apache's mod_lbmethod_bybusyness.
 *
 * Every candidate is credited like byrequests (lbstatus += lbfactor); the winner is the one with the
 * lowest busy count, and on equal busy the higher credit (then config order). The winner is debited
 * by the total. With everyone idle this is byrequests. Unlike Apache, reset() does not zero `busy`:
 * busy is live accounting of requests in flight, and zeroing it would drive it negative on release.
 * Example: a=1 b=1 c=2, four long requests, then a and b finish: c a b c | a b a (as Apache does).
 *
 * Cost. The scan is O(n). For the election's cached group the same arithmetic runs on lazy credits
 * (credits.ts): lbstatus = base + weight × picks, and per distinct weight one heap ordered by
 * (busy asc, base desc, position asc). A pick compares the k class leaders by busy, then by their
 * true credit (ties to the first in the group); acquire and release re-rank one worker
 * (countersChanged). O(k + log n) per pick and per acquire/release, exact: within one weight
 * class and one busy count the order by credit is the order by base, because every member gains
 * the same each pick. A group seen once is scanned; a retry's avoid set and slow-start ramps take
 * the scan too.
 */
import type { Candidate } from './types.js';
import { CreditCache } from './credits.js';
import { defineScheduler } from './types.js';

/**
 * Requests in flight, scaled up while a slow-start ramp lowers the weight so a warming worker
 * counts as busier than it is. Without a ramp it is exactly `busy` (Apache's comparison).
 */
function load(w: Candidate): number {
  return w.weight === w.lbfactor ? w.busy : (w.busy * w.lbfactor) / w.weight;
}

/** Apache's loop, as is (plus the ramp scaling of load()). */
function scan<C extends Candidate>(candidates: readonly C[]): C {
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
}

export const bybusyness = defineScheduler(() => {
  // load() is the plain busy count only when weight = lbfactor: keep only exact structures.
  const credits = new CreditCache(true, true);
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
    countersChanged(w) {
      credits.current?.busyChanged(w);
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
