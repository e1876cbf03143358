import type { CreditLedger, Worker } from '../core/worker.js';
import { IndexedHeap } from './heap.js';

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
 * first wants the fewest requests in flight, so each class has one heap per busy level and a pick
 * looks only at the lowest level any candidate is at; acquire and release move one worker between
 * levels (the balancer calls countersChanged).
 *
 * Worked example, byrequests with loadfactors a=1 b=1 c=1 d=2 (weights 100,100,100,200, W=500),
 * all lbstatus 0: classes {a,b,c} (w=100) and {d} (w=200), bases 0.
 *   t=1: leaders a (0+100) and d (0+200) → d; d.base = −500 → lbstatus 100 100 100 −300
 *   t=2: a (0+200) vs d (−500+400=−100) → a; a.base = −500, the heap's next leader is b
 *   t=3: b (300) vs d (100) → b;  t=4: c (400) vs d (300) → c;  t=5: a (−500+500=0) vs d (−500+1000=500) → d
 * which is Apache's d a b c d (apache.md §2.2), every lbstatus equal to the scan's after each pick.
 *
 * Worker.lbstatus stays exact for every reader: while attached, the worker's getter asks this
 * ledger (base + w·t); any write to it (reset, recalcFactors, a ramp, the manager, a test) first
 * detaches the whole structure, writing every lbstatus back, and the scheduler builds a new one
 * from those values on a later pick. Integers stay exact in doubles far beyond t = 2^30, when the
 * structure is rebuilt anyway.
 */
export class CreditHeaps implements CreditLedger {
  t = 0;
  /** The election's cached candidate group this structure is for. */
  readonly group: readonly Worker[];
  /** False once detached: the workers hold their own lbstatus again. */
  attached = true;
  /** Every candidate's weight equals its lbfactor, so sticky credits (by lbfactor) are lazy credits. */
  readonly exactSticky: boolean;

  readonly #byBusy: boolean;
  readonly #base: Float64Array;
  readonly #weight: Float64Array;
  readonly #class: Int32Array;
  readonly #level: Int32Array;
  readonly #at: Int32Array;
  /** Per weight class: its weight and one heap per busy level (level 0 only without byBusy). */
  readonly #weights: number[] = [];
  readonly #heaps: IndexedHeap[][] = [];
  readonly #total: number;
  /** Candidates at each busy level, and the lowest level with any (bybusyness). */
  readonly #count: number[] = [];
  #min = 0;

  /** Builds over `group` from the workers' current lbstatus; undefined if it cannot (busy < 0). */
  static build(group: readonly Worker[], byBusy: boolean): CreditHeaps | undefined {
    if (byBusy) for (const w of group) if (w.busy < 0) return undefined;
    return new CreditHeaps(group, byBusy);
  }

  private constructor(group: readonly Worker[], byBusy: boolean) {
    const n = group.length;
    this.group = group;
    this.#byBusy = byBusy;
    this.#base = new Float64Array(n);
    this.#weight = new Float64Array(n);
    this.#class = new Int32Array(n);
    this.#level = new Int32Array(n);
    this.#at = new Int32Array(n);
    const classOf = new Map<number, number>();
    let total = 0;
    let exact = true;
    for (let p = 0; p < n; p++) {
      const w = group[p]!;
      // Read before attaching: the getter of a worker still attached elsewhere is right until then.
      w.ledger?.detach();
      const weight = w.weight;
      this.#base[p] = w.lbstatus;
      this.#weight[p] = weight;
      total += weight;
      if (weight !== w.lbfactor) exact = false;
      let c = classOf.get(weight);
      if (c === undefined) {
        c = this.#weights.length;
        classOf.set(weight, c);
        this.#weights.push(weight);
        this.#heaps.push([]);
      }
      this.#class[p] = c;
      const level = byBusy ? w.busy : 0;
      this.#level[p] = level;
      this.#heap(c, level).push(p);
      this.#count[level] = (this.#count[level] ?? 0) + 1;
      w.ledger = this;
      w.slot = p;
    }
    this.#total = total;
    this.exactSticky = exact;
    this.#min = this.#lowestLevel(0);
  }

  /** One pick: every candidate gains its weight, the best (fewest busy, most credit, first) pays W. */
  pick(): Worker {
    const t = ++this.t;
    const level = this.#min;
    const base = this.#base;
    let best = -1;
    let bestHeap: IndexedHeap | undefined;
    let bestValue = 0;
    for (let c = 0; c < this.#heaps.length; c++) {
      const heap = this.#heaps[c]![level];
      if (heap === undefined || heap.size === 0) continue;
      const p = heap.items[0]!;
      const value = base[p]! + this.#weights[c]! * t;
      if (best < 0 || value > bestValue || (value === bestValue && p < best)) {
        best = p;
        bestValue = value;
        bestHeap = heap;
      }
    }
    base[best] = base[best]! - this.#total;
    bestHeap!.lowered(best);
    return this.group[best]!;
  }

  /**
   * Apache's sticky accounting when the usable workers are this group plus `others` (credited by
   * the caller): every candidate gains its lbfactor (t + 1) and the routed worker pays `total`.
   */
  chargeSticky(routed: Worker, total: number): void {
    this.t++;
    if (routed.ledger === this) {
      const p = routed.slot;
      this.#base[p] = this.#base[p]! - total;
      this.#heap(this.#class[p]!, this.#level[p]!).lowered(p);
    } else {
      routed.lbstatus -= total;
    }
  }

  /** A member's busy count changed (acquire or release): move it to its new level's heap. */
  busyChanged(w: Worker): void {
    if (!this.#byBusy || w.ledger !== this) return;
    const p = w.slot;
    const from = this.#level[p]!;
    const to = w.busy;
    if (to === from) return;
    if (to < 0) {
      this.detach();
      return;
    }
    const c = this.#class[p]!;
    this.#heap(c, from).remove(p);
    this.#heap(c, to).push(p);
    this.#level[p] = to;
    const left = this.#count[from]! - 1;
    this.#count[from] = left;
    this.#count[to] = (this.#count[to] ?? 0) + 1;
    if (to < this.#min) this.#min = to;
    else if (from === this.#min && left === 0) this.#min = this.#lowestLevel(from);
  }

  lbstatusOf(w: Worker): number {
    return this.#base[w.slot]! + this.#weight[w.slot]! * this.t;
  }

  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    const t = this.t;
    for (let p = 0; p < this.group.length; p++) {
      const w = this.group[p]!;
      if (w.ledger !== this) continue;
      w.ledger = undefined;
      w.slot = -1;
      w.lbstatus = this.#base[p]! + this.#weight[p]! * t;
    }
  }

  #heap(c: number, level: number): IndexedHeap {
    const levels = this.#heaps[c]!;
    let heap = levels[level];
    if (heap === undefined) {
      for (let l = levels.length; l < level; l++) levels[l] = new IndexedHeap(this.#base, this.#at);
      heap = levels[level] = new IndexedHeap(this.#base, this.#at);
    }
    return heap;
  }

  #lowestLevel(from: number): number {
    let l = from;
    while (l < this.#count.length && !this.#count[l]) l++;
    return l;
  }
}
