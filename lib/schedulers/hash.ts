/**
 * hash: consistent hashing with bounded loads (HAProxy hash-balance-factor, Envoy
 * hash_balance_factor; Mirrokni, Thorup and Zadimoghaddam, 2016).
 *
 * The request's key (the balancer's `hashkey`: client address, path, a header, a cookie, a query
 * parameter) is hashed onto a ring of weighted virtual nodes (ring.ts); the owner of the first point
 * at or after it takes the request, so the same key reaches the same worker while the set stays the
 * same. With `hashbalancefactor` f (percent, 0 = no bound) a worker takes a request only while
 * busy + 1 ≤ ⌈f/100 × (in flight + 1) × weight / total weight⌉; otherwise the walk goes on to the
 * next point's owner. With f ≥ 100 those bounds add up to more than the requests in flight, so some
 * candidate is always under its bound. A request without a key is balanced by p2c.
 *
 * Cost: a binary search over the ring (O(log n)), then a walk that is one step unless the key's
 * worker is not a candidate or at its bound. Per cached group an array maps ring members to group
 * positions and the group's busy sum is kept up to date (countersChanged), so a pick visits no
 * other worker. Another array (a retry's) costs O(n).
 */
import type { Candidate } from './types.js';
import type { CandidateGroup } from './group.js';
import { DEFAULT_SCHEDULER_OPTIONS, defineScheduler } from './types.js';
import { Ring, hash32 } from './ring.js';
import { WeightedDraw } from './draw.js';
import { p2cPick } from './p2c.js';

/** A group's view of the ring: member id → position (−1: not a candidate), and the sums a bound needs. */
interface View {
  group: CandidateGroup | undefined;
  ring: Ring;
  position: Int32Array;
  busy: Int32Array;
  busySum: number;
  weightSum: number;
}

export const hash = defineScheduler(({ random, options = DEFAULT_SCHEDULER_OPTIONS }) => {
  let ring: Ring | undefined;
  let view: View | undefined;
  const fallback = { cached: new WeightedDraw(), other: new WeightedDraw(), out: new Int32Array(2) };

  const ringFor = (candidates: readonly Candidate[]): Ring => {
    if (!ring?.covers(candidates)) {
      ring = new Ring(ring === undefined ? candidates : ring.with(candidates));
      view = undefined;
    }
    return ring;
  };

  const viewOf = (candidates: readonly Candidate[], group: CandidateGroup | undefined): View => {
    const r = ringFor(candidates);
    const position = new Int32Array(r.members.length).fill(-1);
    const busy = new Int32Array(candidates.length);
    let busySum = 0;
    let weightSum = 0;
    candidates.forEach((w, p) => {
      position[r.idOf(w.name)] = p;
      busy[p] = w.busy;
      busySum += w.busy;
      weightSum += w.weight;
    });
    return { group, ring: r, position, busy, busySum, weightSum };
  };

  const walk = <C extends Candidate>(candidates: readonly C[], v: View, key: string): C => {
    const { ring: r, position } = v;
    // Integers divided once, so a bound that is a whole number is not rounded up past it.
    const factor = options.hashbalancefactor;
    const share = factor * (v.busySum + 1);
    const whole = 100 * v.weightSum;
    const size = r.points.length;
    let at = r.first(hash32(key));
    for (let step = 0; step < size; step++) {
      const p = position[r.owners[at]!]!;
      if (p >= 0) {
        const w = candidates[p]!;
        if (factor === 0 || w.busy + 1 <= Math.ceil((share * w.weight) / whole)) return w;
      }
      if (++at === size) at = 0;
    }
    return candidates[0]!; // not reached: with factor ≥ 1 some candidate is under its bound
  };

  return {
    pick(candidates, key) {
      if (key === undefined) return p2cPick(candidates, undefined, fallback.other, random, options, fallback.out);
      if (candidates.length === 1) return candidates[0]!;
      return walk(candidates, viewOf(candidates, undefined), key);
    },
    pickCached(group, key) {
      const candidates = group.workers;
      if (key === undefined) return p2cPick(candidates, group, fallback.cached, random, options, fallback.out);
      if (candidates.length === 1) return candidates[0]!;
      if (view?.group !== group) view = viewOf(candidates, group);
      return walk(candidates, view, key);
    },
    countersChanged(w) {
      const v = view;
      if (v === undefined) return;
      const p = v.group === undefined ? -1 : v.group.indexOf(w);
      if (p < 0) return;
      v.busySum += w.busy - v.busy[p]!;
      v.busy[p] = w.busy;
    },
    reset() {
      ring = undefined;
      view = undefined;
    },
  };
});
