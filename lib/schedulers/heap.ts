/**
 * A binary max-heap of small integers (positions in a candidate group) over keys kept outside it,
 * in a Float64Array shared by every heap of one structure, with each position's index in its heap
 * in a shared Int32Array so any member can be removed or re-keyed in O(log n).
 *
 * Order: the higher key first, and on equal keys the lower position, which is the election order:
 * exactly the tie rule of Apache's scans (strict comparisons, so the first candidate wins a tie).
 * A scheduler that wants the lowest value stores its negation.
 */
export class IndexedHeap {
  readonly items: number[] = [];
  readonly #key: Float64Array;
  readonly #at: Int32Array;

  constructor(key: Float64Array, at: Int32Array) {
    this.#key = key;
    this.#at = at;
  }

  get size(): number {
    return this.items.length;
  }

  /** The best position, or -1 when empty. */
  top(): number {
    return this.items.length === 0 ? -1 : this.items[0]!;
  }

  push(p: number): void {
    this.items.push(p);
    this.#up(this.items.length - 1, p);
  }

  /** Removes position p (which must be in this heap). */
  remove(p: number): void {
    const items = this.items;
    const i = this.#at[p]!;
    const last = items.pop()!;
    this.#at[p] = -1;
    if (i === items.length) return;
    // Put the last item in the hole, then restore order in whichever direction it is out of place.
    items[i] = last;
    this.#at[last] = i;
    this.update(last);
  }

  /** Restores order after p's key changed either way. */
  update(p: number): void {
    const i = this.#at[p]!;
    if (i > 0 && this.#before(p, this.items[(i - 1) >> 1]!)) this.#up(i, p);
    else this.#down(i, p);
  }

  /** Restores order after p's key went down (the common case: the winner was debited). */
  lowered(p: number): void {
    this.#down(this.#at[p]!, p);
  }

  #before(a: number, b: number): boolean {
    const ka = this.#key[a]!;
    const kb = this.#key[b]!;
    return ka > kb || (ka === kb && a < b);
  }

  #up(i: number, p: number): void {
    const items = this.items;
    const at = this.#at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const q = items[parent]!;
      if (!this.#before(p, q)) break;
      items[i] = q;
      at[q] = i;
      i = parent;
    }
    items[i] = p;
    at[p] = i;
  }

  #down(i: number, p: number): void {
    const items = this.items;
    const at = this.#at;
    const n = items.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#before(items[right]!, items[child]!)) child = right;
      const c = items[child]!;
      if (!this.#before(c, p)) break;
      items[i] = c;
      at[c] = i;
      i = child;
    }
    items[i] = p;
    at[p] = i;
  }
}
