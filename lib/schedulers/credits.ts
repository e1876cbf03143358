import type { CandidateGroup } from './group.js';
import { IndexedHeap } from './heap.js';
import type { Candidate } from './types.js';

/**
 * Lazy credits: byrequests and bybusyness in O(k + log n) per pick instead of O(n), with exactly
 * Apache's sequences and lbstatus values.
 *
 * Apache credits every candidate its weight on every pick, so after t picks over one unchanged
 * candidate group lbstatus_i = base_i + w_i·t, where base_i only moves when worker i wins (−W, the
 * sum of the weights) or takes a sticky hit. Nothing is credited one by one: `t` counts the picks.
 *
 * Why the order can be kept in heaps: two workers with the same weight gain the same amount on each
 * pick, so their order by (lbstatus desc, position asc) is their order by (base desc, position
 * asc), and it only changes when one of them wins. So the candidates are split into weight classes
 * (k = number of distinct weights, 1 with equal weights), each a heap by base. The best worker
 * overall is the best of the k class leaders, compared by their true lbstatus base + w·t, ties to
 * the lower position: the first one in the group, as Apache's strict ">" scan picks. bybusyness
 * first wants the fewest requests in flight, so its heaps rank by busy first, then base: a class
 * leader is the class's best by (busy asc, credit desc, position asc), and the leaders are compared
 * the same way. Acquire and release re-rank one worker (the balancer calls countersChanged); the
 * winner has just sunk to the bottom when its busy goes up, so that costs next to nothing.
 *
 * Worked example, byrequests with loadfactors a=1 b=1 c=1 d=2 (weights 100,100,100,200, W=500),
 * all lbstatus 0: classes {a,b,c} (w=100) and {d} (w=200), bases 0.
 *   t=1: leaders a (0+100) and d (0+200) → d; d.base = −500 → lbstatus 100 100 100 −300
 *   t=2: a (0+200) vs d (−500+400=−100) → a; a.base = −500, the heap's next leader is b
 *   t=3: b (300) vs d (100) → b;  t=4: c (400) vs d (300) → c
 *   t=5: a (−500+500=0) vs d (−500+1000=500) → d; d.base = −1000 → lbstatus 0 0 0 0
 * which is Apache's d a b c d (test/conformance, byrequests-weighted), every lbstatus equal to the scan's after each pick.
 *
 * lbstatus stays exact for every reader: while a structure is live, the scheduler reports each
 * member's credit from it (base + w·t, Scheduler.lbstatus) and the workers' own lbstatus is stale;
 * before anyone else writes lbstatus (reset, recalcFactors, a ramp, the manager, a scan) the
 * structure is settled: every value written back, the structure dropped, and a new one built from
 * those values on a later pick. Integers stay exact in doubles far beyond t = 2^30, when the
 * structure is rebuilt anyway.
 */
export class CreditHeaps {
  t = 0;
  /** The election's cached candidate group this structure is for. */
  readonly group: CandidateGroup;
  /** False once settled: the workers hold their own lbstatus again. */
  attached = true;
  /** Every candidate's weight equals its lbfactor, so sticky credits (by lbfactor) are lazy credits. */
  readonly exactSticky: boolean;

  readonly #byBusy: boolean;
  /** Per position: its weight class. */
  readonly #class: Int32Array;
  /** Per weight class: its weight and its heap (rank = busy for bybusyness, key = base). */
  readonly #weights: number[] = [];
  readonly #heaps: IndexedHeap[] = [];
  readonly #total: number;

  /** Builds over `group` from the workers' current lbstatus and busy (settled by the caller). */
  constructor(group: CandidateGroup, byBusy: boolean) {
    const members = group.workers;
    const n = members.length;
    this.group = group;
    this.#byBusy = byBusy;
    this.#class = new Int32Array(n);
    const classOf = new Map<number, number>();
    const sizes: number[] = [];
    let total = 0;
    let exact = true;
    for (let p = 0; p < n; p++) {
      const w = members[p]!;
      const weight = w.weight;
      total += weight;
      if (weight !== w.lbfactor) exact = false;
      let c = classOf.get(weight);
      if (c === undefined) {
        c = this.#weights.length;
        classOf.set(weight, c);
        this.#weights.push(weight);
        sizes.push(0);
      }
      this.#class[p] = c;
      sizes[c]!++;
    }
    const at = new Int32Array(n);
    for (const size of sizes) this.#heaps.push(new IndexedHeap(at, size, byBusy));
    for (let p = 0; p < n; p++) {
      const w = members[p]!;
      this.#heaps[this.#class[p]!]!.push(p, byBusy ? w.busy : 0, w.lbstatus);
    }
    this.#total = total;
    this.exactSticky = exact;
  }

  /** One pick: every candidate gains its weight, the best (fewest busy, most credit, first) pays W; its position. */
  pick(): number {
    const t = ++this.t;
    const heaps = this.#heaps;
    let best = -1;
    let bestHeap: IndexedHeap | undefined;
    let bestRank = 0;
    let bestValue = 0;
    for (let c = 0; c < heaps.length; c++) {
      const heap = heaps[c]!;
      if (heap.size === 0) continue;
      const p = heap.top();
      const rank = heap.topRank();
      const value = heap.topKey() + this.#weights[c]! * t;
      if (
        best < 0 ||
        rank < bestRank ||
        (rank === bestRank && (value > bestValue || (value === bestValue && p < best)))
      ) {
        best = p;
        bestHeap = heap;
        bestRank = rank;
        bestValue = value;
      }
    }
    // The winner's base (its key, at the top of its heap) pays the total.
    bestHeap!.lower(best, bestHeap!.topKey() - this.#total);
    return best;
  }

  /**
   * Apache's sticky accounting when the usable workers are this group plus others (credited by
   * the caller): every candidate gains its lbfactor (t + 1) and the routed worker pays `total`.
   */
  chargeSticky(routed: Candidate, total: number): void {
    this.t++;
    const p = this.group.indexOf(routed);
    if (p >= 0) {
      const heap = this.#heaps[this.#class[p]!]!;
      heap.lower(p, heap.keyOf(p) - total);
    } else {
      routed.lbstatus -= total;
    }
  }

  /** A member's busy count changed (acquire or release): re-rank it. */
  busyChanged(w: Candidate): void {
    if (!this.#byBusy) return;
    const p = this.group.indexOf(w);
    if (p < 0) return;
    const heap = this.#heaps[this.#class[p]!]!;
    if (heap.rankOf(p) !== w.busy) heap.set(p, w.busy, heap.keyOf(p));
  }

  /** w's credit: from the structure for a member, else its own lbstatus. */
  lbstatusOf(w: Candidate): number {
    const p = this.group.indexOf(w);
    if (p < 0) return w.lbstatus;
    const c = this.#class[p]!;
    return this.#heaps[c]!.keyOf(p) + this.#weights[c]! * this.t;
  }

  /** Writes every member's credit back into its lbstatus; the structure is not used again. */
  detach(): void {
    if (!this.attached) return;
    const members = this.group.workers;
    const values = members.map((w) => this.lbstatusOf(w));
    this.attached = false;
    for (let p = 0; p < members.length; p++) members[p]!.lbstatus = values[p]!;
  }
}

/** Rebuilt past this many picks so base + weight × t stays an exact integer in a double. */
const MAX_T = 2 ** 30;

/**
 * The credit structure a scheduler keeps for the election's cached group: kept while attached to
 * the same group, built the second time a group is seen (one seen once may already be gone at the
 * next pick), none otherwise. With `exactOnly`, a structure whose sticky accounting would not be
 * exact is not kept (bybusyness compares loads that are only plain busy counts when it is).
 */
export class CreditCache {
  readonly #byBusy: boolean;
  readonly #exactOnly: boolean;
  #heaps: CreditHeaps | undefined;
  #seen: CandidateGroup | undefined;

  constructor(byBusy: boolean, exactOnly: boolean) {
    this.#byBusy = byBusy;
    this.#exactOnly = exactOnly;
  }

  /**
   * A scheduler's chargeSticky: the sticky credits on the structure over `group` when there is one and
   * its credits are exact (every weight is the lbfactor), else false (the balancer then credits the
   * workers one by one).
   */
  chargeSticky(group: CandidateGroup, routed: Candidate, total: number): boolean {
    const s = this.for(group);
    if (!s?.exactSticky) return false;
    s.chargeSticky(routed, total);
    return true;
  }

  /** The live structure, if any (for counter updates between picks). */
  get current(): CreditHeaps | undefined {
    return this.#heaps;
  }

  /** w's credit as the scheduler reports it (Scheduler.lbstatus). */
  lbstatusOf(w: Candidate): number {
    return this.#heaps === undefined ? w.lbstatus : this.#heaps.lbstatusOf(w);
  }

  /** Writes the live structure's credits back into the workers and drops it (Scheduler.settle). */
  settle(): void {
    this.#heaps?.detach();
    this.#heaps = undefined;
  }

  for(group: CandidateGroup): CreditHeaps | undefined {
    const h = this.#heaps;
    if (h?.group === group && h.t < MAX_T) return h;
    this.settle();
    if (this.#seen !== group) {
      this.#seen = group;
      return undefined;
    }
    const built = new CreditHeaps(group, this.#byBusy);
    if (this.#exactOnly && !built.exactSticky) {
      built.detach();
      return undefined;
    }
    return (this.#heaps = built);
  }
}
