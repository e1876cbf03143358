/**
 * A 4-ary heap of small integers (positions in a candidate group) with their keys stored next to
 * them, and each position's index in its heap kept in an Int32Array (which several heaps over
 * disjoint positions may share), so any member can be re-keyed in O(log n).
 *
 * Order: the lower rank first (bybusyness: requests in flight; 0 for everyone otherwise), then the
 * higher key, then the lower position, which is the election order: exactly the tie rule of
 * Apache's scans (strict comparisons, so the first candidate wins a tie). A scheduler that wants
 * the lowest value stores its negation as the key.
 *
 * Why 4-ary with inline keys: at 10 000 workers the cost of a pick is cache misses, not
 * comparisons. Four children's keys share a cache line and the tree is half as deep, so sinking the
 * debited winner to the bottom touches about log4 n lines instead of 2·log2 n.
 */
export class IndexedHeap {
  readonly #ranks: Int32Array;
  readonly #keys: Float64Array;
  readonly #items: Int32Array;
  readonly #at: Int32Array;
  /** False when every rank is 0 (byrequests, bytraffic): ranks are then neither read nor moved. */
  readonly #ranked: boolean;
  #n = 0;

  /** Room for `capacity` members; `at` maps each position to its slot. */
  constructor(at: Int32Array, capacity: number, ranked: boolean) {
    this.#ranked = ranked;
    this.#ranks = new Int32Array(ranked ? capacity : 0);
    this.#keys = new Float64Array(capacity);
    this.#items = new Int32Array(capacity);
    this.#at = at;
  }

  get size(): number {
    return this.#n;
  }

  /** The first position in heap order, or -1 when empty. */
  top(): number {
    return this.#n === 0 ? -1 : this.#items[0]!;
  }
  topRank(): number {
    return this.#ranked ? this.#ranks[0]! : 0;
  }
  topKey(): number {
    return this.#keys[0]!;
  }

  /** p's key; p must be in the heap. */
  keyOf(p: number): number {
    return this.#keys[this.#at[p]!]!;
  }
  rankOf(p: number): number {
    return this.#ranked ? this.#ranks[this.#at[p]!]! : 0;
  }

  push(p: number, rank: number, key: number): void {
    this.#up(this.#n++, p, rank, key);
  }

  /** Gives p a new rank and key, either way. */
  set(p: number, rank: number, key: number): void {
    const i = this.#at[p]!;
    if (i > 0) {
      const parent = (i - 1) >> 2;
      if (this.#precedes(rank, key, p, parent)) {
        this.#up(i, p, rank, key);
        return;
      }
    }
    this.#down(i, p, rank, key);
  }

  /**
   * Gives p a lower key, same rank: the debited winner, which usually sinks to the bottom. So,
   * bottom-up (Floyd): follow the first child to a leaf without comparing against p, then climb
   * back to where p belongs (rarely more than a step).
   */
  lower(p: number, key: number): void {
    const n = this.#n;
    const start = this.#at[p]!;
    const rank = this.#ranked ? this.#ranks[start]! : 0;
    let i = start;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      const best = this.#firstChild(first, n);
      this.#move(best, i);
      i = best;
    }
    while (i > start) {
      const parent = (i - 1) >> 2;
      if (!this.#precedes(rank, key, p, parent)) break;
      this.#move(parent, i);
      i = parent;
    }
    this.#put(i, p, rank, key);
  }

  /** (rank, key, p) goes before the item in slot i. */
  #precedes(rank: number, key: number, p: number, i: number): boolean {
    if (this.#ranked) {
      const r = this.#ranks[i]!;
      if (rank !== r) return rank < r;
    }
    const k = this.#keys[i]!;
    return key > k || (key === k && p < this.#items[i]!);
  }

  /** The slot that goes first among the (up to four) children from `first`. */
  #firstChild(first: number, n: number): number {
    let best = first;
    const end = first + 4 < n ? first + 4 : n;
    for (let c = first + 1; c < end; c++) {
      if (this.#precedes(this.#ranked ? this.#ranks[c]! : 0, this.#keys[c]!, this.#items[c]!, best)) best = c;
    }
    return best;
  }

  #move(from: number, to: number): void {
    const q = this.#items[from]!;
    this.#items[to] = q;
    if (this.#ranked) this.#ranks[to] = this.#ranks[from]!;
    this.#keys[to] = this.#keys[from]!;
    this.#at[q] = to;
  }

  #put(i: number, p: number, rank: number, key: number): void {
    this.#items[i] = p;
    if (this.#ranked) this.#ranks[i] = rank;
    this.#keys[i] = key;
    this.#at[p] = i;
  }

  #up(i: number, p: number, rank: number, key: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 2;
      if (!this.#precedes(rank, key, p, parent)) break;
      this.#move(parent, i);
      i = parent;
    }
    this.#put(i, p, rank, key);
  }

  #down(i: number, p: number, rank: number, key: number): void {
    const n = this.#n;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      const best = this.#firstChild(first, n);
      if (this.#precedes(rank, key, p, best)) break;
      this.#move(best, i);
      i = best;
    }
    this.#put(i, p, rank, key);
  }
}
