/**
 * ewma: latency-aware peak-EWMA with two random choices (Finagle's and Linkerd's balancer).
 *
 * Each worker keeps an average of its response-head latency: a slower response raises it at once
 * (the peak), a faster one pulls it down by the time since the last one, e^(−Δt/ewmadecay). A failed
 * attempt counts as a latency of max(its own, 10 × the median average, 1 s), so a failing worker
 * is avoided for about a decay time. Without news a worker's average drifts back to the median over
 * the same decay, so a new worker (until its first sample), and one back from error state, costs
 * about the median: neither flooded as if it were fastest nor starved as if it were slowest.
 *
 * A pick draws two distinct candidates by weight (draw.ts, as p2c) and keeps the lower cost
 * = average × (busy + 1) / weight, the first drawn on a tie. O(log n) per pick (O(1) with equal
 * weights); the median is recomputed once per as many observations as there are workers, so that
 * is O(1) per observation on average. Each balancer, in each process, keeps its own view.
 */
import type { AttemptObservation, Candidate } from './types.js';
import type { CandidateGroup } from './group.js';
import { DEFAULT_SCHEDULER_OPTIONS, defineScheduler } from './types.js';
import { WeightedDraw } from './draw.js';

/** A failure counts as this many times the median latency, and at least FAILURE_FLOOR_MS. */
export const FAILURE_FACTOR = 10;
export const FAILURE_FLOOR_MS = 1000;

interface Average {
  value: number;
  stamp: number;
}

export const ewma = defineScheduler((ctx) => {
  const { random, options = DEFAULT_SCHEDULER_OPTIONS } = ctx;
  const now = (): number => ctx.now();
  let averages = new Map<Candidate, Average>();
  /** The median average, 0 while nothing was observed (then every worker costs the same). */
  let median = 0;
  let sinceMedian = 0;
  const cached = new WeightedDraw();
  const other = new WeightedDraw();
  const out = new Int32Array(2);

  const latency = (w: Candidate, t: number): number => {
    const a = averages.get(w);
    if (a === undefined) return median;
    const dt = t - a.stamp;
    return dt <= 0 ? a.value : median + (a.value - median) * Math.exp(-dt / options.ewmadecayMs);
  };
  const cost = (w: Candidate, t: number): number => (latency(w, t) * (w.busy + 1)) / w.weight;

  const choose = <C extends Candidate>(candidates: readonly C[], group: CandidateGroup | undefined): C => {
    if (candidates.length === 1) return candidates[0]!;
    (group === undefined ? other : cached).draw(candidates, group, random, out);
    const a = candidates[out[0]!]!;
    const b = candidates[out[1]!]!;
    const t = now();
    return cost(b, t) < cost(a, t) ? b : a;
  };

  const remedian = (): void => {
    const values = [...averages.values()].map((a) => a.value).sort((x, y) => x - y);
    const mid = values.length >> 1;
    median = values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
    sinceMedian = 0;
  };

  return {
    pick: (candidates) => choose(candidates, undefined),
    pickCached: (group) => choose(group.workers, group),
    observe(w: Candidate, { latencyMs, failed }: AttemptObservation) {
      const t = now();
      const sample = failed ? Math.max(latencyMs, FAILURE_FACTOR * median, FAILURE_FLOOR_MS) : latencyMs;
      const a = averages.get(w);
      const current = latency(w, t);
      // The first sample is taken as it is; after that a slower one is taken at once (the peak) and
      // a faster one pulls by the time since the last.
      const value =
        a === undefined || sample >= current
          ? sample
          : current + (sample - current) * (1 - Math.exp(-(t - a.stamp) / options.ewmadecayMs));
      if (a === undefined) averages.set(w, { value, stamp: t });
      else {
        a.value = value;
        a.stamp = t;
      }
      if (++sinceMedian >= averages.size || a === undefined) remedian();
    },
    reset() {
      averages = new Map();
      median = 0;
      sinceMedian = 0;
    },
  };
});
