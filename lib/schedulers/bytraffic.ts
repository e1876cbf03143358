/**
 * bytraffic: least bytes moved per unit of weight, exactly Apache's mod_lbmethod_bytraffic.
 *
 * traffic = transferred / lbfactor + read / lbfactor (integer divisions, lbfactor = loadfactor × 100);
 * the lowest wins, the first one on ties. Counters only grow, so a worker added or re-enabled with
 * no traffic takes everything until it catches up; reset() zeroes them.
 * Weights 1,2,1 and each exchange 200 B out + 800 B in → a b c b a b c b …
 *
 * Slow start (lib/core/ramp.ts): a worker whose ramp begins is levelled with the least-loaded
 * other candidate instead of taking everything, and a weight change applies only to the bytes moved
 * after it, so the ramping worker's share follows its weight without a catch-up burst at the end.
 * Workers never touched by a ramp keep Apache's exact formula.
 *
 * Cost. The scan is O(n). For the election's cached group (the same CandidateGroup while the candidates do
 * not change) a heap keeps the candidates by (traffic asc, position asc); a pick reads its top,
 * O(1), and release re-keys the one worker whose counters grew (countersChanged), O(log n). Exact:
 * traffic only changes when that worker's bytes change, an anchor moves (then the heap is rebuilt),
 * or reset() zeroes them (rebuilt too), so the top is always the scan's answer, ties to the first.
 * Sticky hits credit lbstatus over the same group lazily (credits.ts), as byrequests does.
 */
import type { Candidate } from './types.js';
import type { CandidateGroup } from './group.js';
import { IndexedHeap } from './heap.js';
import { CreditCache } from './credits.js';
import { defineScheduler } from './types.js';

function plainTraffic(w: Candidate): number {
  return Math.floor(w.transferred / w.lbfactor) + Math.floor(w.read / w.lbfactor);
}

/** Traffic of a worker a ramp touched: offset + bytes since the anchor / weight at the anchor. */
interface Anchor {
  /** The ramp it was taken under (compared by identity). */
  ramp: object | undefined;
  weight: number;
  bytes: number;
  offset: number;
}

export const bytraffic = defineScheduler(() => {
  let anchors = new WeakMap<Candidate, Anchor>();
  const traffic = (w: Candidate): number => {
    const a = anchors.get(w);
    return a ? a.offset + (w.transferred + w.read - a.bytes) / a.weight : plainTraffic(w);
  };
  const anchor = (w: Candidate, offset: number): void => {
    anchors.set(w, { ramp: w.ramp, weight: w.weight, bytes: w.transferred + w.read, offset });
  };
  /** Brings w's anchor up to date; true if it moved. */
  const track = (w: Candidate, candidates: readonly Candidate[]): boolean => {
    const a = anchors.get(w);
    if (w.ramp && a?.ramp !== w.ramp) {
      let level = Infinity;
      for (const c of candidates) if (c !== w) level = Math.min(level, traffic(c));
      anchor(w, Math.max(traffic(w), Number.isFinite(level) ? level : 0));
      return true;
    } else if (a && a.weight !== w.weight) {
      anchor(w, traffic(w));
      return true;
    }
    return false;
  };
  function scan<C extends Candidate>(candidates: readonly C[]): C {
    let moved = false;
    for (const w of candidates) if (w.ramp || anchors.has(w)) moved = track(w, candidates) || moved;
    if (moved) tree = undefined;
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
  }

  /** The heap over a cached group: keys are −traffic, so the heap's first is the least traffic. */
  interface Tree {
    group: CandidateGroup;
    heap: IndexedHeap;
  }
  let tree: Tree | undefined;
  let seen: CandidateGroup | undefined;
  // Sticky hits credit lbstatus (Apache's accounting, whatever the lbmethod): lazily, over the cached
  // group, as byrequests does. bytraffic never reads lbstatus, so only the credits are kept.
  const credits = new CreditCache(false, true);
  const build = (group: CandidateGroup): Tree => {
    const members = group.workers;
    for (const w of members) if (w.ramp || anchors.has(w)) track(w, members);
    const heap = new IndexedHeap(new Int32Array(members.length), members.length, false);
    for (let p = 0; p < members.length; p++) heap.push(p, 0, -traffic(members[p]!));
    return { group, heap };
  };
  return {
    pick: scan,
    pickCached(group) {
      if (tree?.group !== group) {
        tree = undefined;
        if (seen !== group) {
          seen = group;
          return scan(group.workers);
        }
        tree = build(group);
      }
      return group.workers[tree.heap.top()]!;
    },
    chargeSticky(group, routed, total) {
      return credits.chargeSticky(group, routed, total);
    },
    countersChanged(w) {
      if (tree === undefined) return;
      const p = tree.group.indexOf(w);
      if (p < 0) return;
      const k = -traffic(w);
      if (k !== tree.heap.keyOf(p)) tree.heap.set(p, 0, k);
    },
    lbstatus: (w) => credits.lbstatusOf(w),
    settle: () => credits.settle(),
    reset(workers) {
      anchors = new WeakMap();
      tree = undefined;
      for (const w of workers) {
        w.transferred = 0;
        w.read = 0;
      }
    },
  };
});
