/**
 * bytraffic: least bytes moved per unit of weight, exactly Apache's mod_lbmethod_bytraffic.
 *
 * traffic = transferred / lbfactor + read / lbfactor (integer divisions, lbfactor = loadfactor × 100);
 * the lowest wins, the first one on ties. Counters only grow, so a worker added or re-enabled with
 * no traffic takes everything until it catches up; reset() zeroes them.
 * Weights 1,2,1 and each exchange 200 B out + 800 B in → a b c b a b c b …
 */
import type { Worker } from '../core/worker.js';
import { defineScheduler } from './types.js';

function traffic(w: Worker): number {
  return Math.floor(w.transferred / w.lbfactor) + Math.floor(w.read / w.lbfactor);
}

export const bytraffic = defineScheduler(() => ({
  pick(candidates) {
    let best = candidates[0]!;
    let min = traffic(best);
    for (let i = 1; i < candidates.length; i++) {
      const w = candidates[i]!;
      const t = traffic(w);
      if (t < min) {
        min = t;
        best = w;
      }
    }
    return best;
  },
  reset(workers) {
    for (const w of workers) {
      w.transferred = 0;
      w.read = 0;
    }
  },
}));
