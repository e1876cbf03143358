/**
 * p2c: weighted least-request with two random choices (HAProxy random(2), Envoy least_request,
 * nginx random two least_conn). Two distinct candidates are drawn in proportion to their weights
 * (draw.ts); the one with fewer requests in flight per unit of weight wins, the first drawn on a
 * tie. So idle workers share by weight exactly, and under load the draw keeps any one balancer
 * process from herding every new request onto the single least busy worker.
 *
 * Load = busy^p2cbias / weight (Envoy's active_request_bias): 1 compares busy per weight, 0 ignores
 * busy (plain weighted random), above 1 weighs a queue more. O(log n) per pick for the cached
 * group, O(1) with equal weights.
 * Example, weights a=1 b=2 c=1 (W=400), draws 0.3, 0.9: 0.3·400 = 120 falls in b's stretch
 * [100, 300); then 0.9·(400−200) = 180 is past a's [0, 100), so it moves over b to 380: c. Both
 * idle: tie, b (the first drawn).
 */
import type { Candidate, SchedulerContext, SchedulerOptions } from './types.js';
import type { CandidateGroup } from './group.js';
import { DEFAULT_SCHEDULER_OPTIONS, defineScheduler } from './types.js';
import { WeightedDraw } from './draw.js';

export function p2cLoad(w: Candidate, bias: number): number {
  return w.busy === 0 || bias === 0 ? 0 : (bias === 1 ? w.busy : w.busy ** bias) / w.weight;
}

/** The p2c choice over `candidates` (the cached group's array when `group` is given). */
export function p2cPick<C extends Candidate>(
  candidates: readonly C[],
  group: CandidateGroup | undefined,
  draw: WeightedDraw,
  random: SchedulerContext['random'],
  options: SchedulerOptions,
  out: Int32Array,
): C {
  if (candidates.length === 1) return candidates[0]!;
  draw.draw(candidates, group, random, out);
  const a = candidates[out[0]!]!;
  const b = candidates[out[1]!]!;
  const bias = options.p2cbias;
  return p2cLoad(b, bias) < p2cLoad(a, bias) ? b : a;
}

export const p2c = defineScheduler(({ random, options = DEFAULT_SCHEDULER_OPTIONS }) => {
  // One table for the cached group, one for the other arrays (a retry's), so neither evicts the other.
  const cached = new WeightedDraw();
  const other = new WeightedDraw();
  const out = new Int32Array(2);
  return {
    pick: (candidates) => p2cPick(candidates, undefined, other, random, options, out),
    pickCached: (group) => p2cPick(group.workers, group, cached, random, options, out),
  };
});
