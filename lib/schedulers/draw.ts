import type { CandidateGroup } from './group.js';
import type { Candidate, SchedulerContext } from './types.js';

type RandomSource = SchedulerContext['random'];

/**
 * Two distinct candidates drawn at random in proportion to their weights, for the power-of-two-
 * choices schedulers. With equal weights the draws are uniform: i = ⌊r₁·n⌋, j = ⌊r₂·(n−1)⌋, and j
 * steps over i. Otherwise i is where r₁·W falls among the prefix sums of the weights, and j is
 * drawn the same way from W − wᵢ with i's stretch cut out, so j ≠ i with one draw each and no retry.
 * The prefix sums of a cached group are kept with it, so a pick is O(log n); another array costs O(n).
 */
export class WeightedDraw {
  #group: CandidateGroup | undefined;
  #prefix = new Float64Array(0);
  #equal = true;

  /** Positions i ≠ j in `candidates` (at least two), into `out`. */
  draw(
    candidates: readonly Candidate[],
    group: CandidateGroup | undefined,
    random: RandomSource,
    out: Int32Array,
  ): void {
    const n = candidates.length;
    if (group === undefined || group !== this.#group) this.#build(candidates, group);
    if (this.#equal) {
      const i = Math.min(n - 1, Math.floor(random() * n));
      let j = Math.min(n - 2, Math.floor(random() * (n - 1)));
      if (j >= i) j++;
      out[0] = i;
      out[1] = j;
      return;
    }
    const prefix = this.#prefix;
    const total = prefix[n - 1]!;
    const i = find(prefix, n, random() * total);
    const start = i === 0 ? 0 : prefix[i - 1]!;
    const wi = prefix[i]! - start;
    let x = random() * (total - wi);
    if (x >= start) x += wi;
    let j = find(prefix, n, x);
    if (j === i) j = i === n - 1 ? i - 1 : i + 1; // only at a rounding edge
    out[0] = i;
    out[1] = j;
  }

  #build(candidates: readonly Candidate[], group: CandidateGroup | undefined): void {
    const n = candidates.length;
    const w0 = candidates[0]!.weight;
    let equal = true;
    for (let p = 1; p < n && equal; p++) equal = candidates[p]!.weight === w0;
    this.#equal = equal;
    this.#group = group;
    if (equal) return;
    if (this.#prefix.length < n) this.#prefix = new Float64Array(n);
    let sum = 0;
    for (let p = 0; p < n; p++) this.#prefix[p] = sum += candidates[p]!.weight;
  }
}

/** The first position whose prefix sum is above x (the last one at a rounding edge). */
function find(prefix: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (prefix[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
