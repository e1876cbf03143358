/**
 * bytraffic: least bytes moved per unit of weight, exactly Apache's mod_lbmethod_bytraffic.
 *
 * traffic = transferred / lbfactor + read / lbfactor (integer divisions, lbfactor = loadfactor × 100);
 * the lowest wins, the first one on ties. Counters only grow, so a worker added or re-enabled with
 * no traffic takes everything until it catches up; reset() zeroes them.
 * Weights 1,2,1 and each exchange 200 B out + 800 B in → a b c b a b c b …
 *
 * Slow start (lib/health/ramp.ts): a worker whose ramp begins is levelled with the least-loaded
 * other candidate instead of taking everything, and a weight change applies only to the bytes moved
 * after it, so the ramping worker's share follows its weight without a catch-up burst at the end.
 * Workers never touched by a ramp keep Apache's exact formula.
 */
import type { Worker } from '../core/worker.js';
import type { Ramp } from '../health/ramp.js';
import { defineScheduler } from './types.js';

function plainTraffic(w: Worker): number {
  return Math.floor(w.transferred / w.lbfactor) + Math.floor(w.read / w.lbfactor);
}

/** Traffic of a worker a ramp touched: offset + bytes since the anchor / weight at the anchor. */
interface Anchor {
  ramp: Ramp | undefined;
  weight: number;
  bytes: number;
  offset: number;
}

export const bytraffic = defineScheduler(() => {
  let anchors = new WeakMap<Worker, Anchor>();
  const traffic = (w: Worker): number => {
    const a = anchors.get(w);
    return a ? a.offset + (w.transferred + w.read - a.bytes) / a.weight : plainTraffic(w);
  };
  const anchor = (w: Worker, offset: number): void => {
    anchors.set(w, { ramp: w.ramp, weight: w.weight, bytes: w.transferred + w.read, offset });
  };
  const track = (w: Worker, candidates: readonly Worker[]): void => {
    const a = anchors.get(w);
    if (w.ramp && a?.ramp !== w.ramp) {
      let level = Infinity;
      for (const c of candidates) if (c !== w) level = Math.min(level, traffic(c));
      anchor(w, Math.max(traffic(w), Number.isFinite(level) ? level : 0));
    } else if (a && a.weight !== w.weight) {
      anchor(w, traffic(w));
    }
  };
  return {
    pick(candidates) {
      for (const w of candidates) if (w.ramp || anchors.has(w)) track(w, candidates);
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
      anchors = new WeakMap();
      for (const w of workers) {
        w.transferred = 0;
        w.read = 0;
      }
    },
  };
});
