import type { Candidate } from './types.js';

/** Virtual nodes per 100 of lbfactor (loadfactor 1 → 100 points on the ring). */
export const POINTS_PER_LOADFACTOR = 100;
/** Above this many points in all, every worker gets proportionally fewer (the ring stays a few MB). */
const MAX_POINTS = 1 << 21;

/** FNV-1a over UTF-16 code units, then murmur3's finaliser so that near keys land far apart. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Where a worker's k-th virtual node sits: it depends on the worker's name only. */
export function pointOf(nameHash: number, k: number): number {
  return mix32((nameHash + Math.imul(k + 1, 0x9e3779b9)) | 0);
}

/**
 * A consistent-hash ring with weighted virtual nodes: each worker has a number of points
 * proportional to its lbfactor, at places that depend on its name alone. A key goes to the owner
 * of the first point at or after its hash, so adding a worker takes only the keys that now land
 * on its points (about 1/n of them) and removing one moves only its own keys. Workers that stop
 * being candidates keep their points (the walk skips them), so a status change costs no rebuild;
 * only a worker never seen, or a new lbfactor, rebuilds the ring.
 */
export class Ring {
  /** Points, ascending, and the member that owns each. */
  readonly points: Uint32Array;
  readonly owners: Int32Array;
  readonly members: readonly string[];
  /** Per top 16 bits of a hash: the first point with those bits or more, so a search spans one bucket. */
  readonly #buckets: Int32Array;
  readonly #index: Map<string, number>;
  readonly #lbfactors: readonly number[];

  constructor(members: readonly { name: string; lbfactor: number }[]) {
    this.members = members.map((m) => m.name);
    this.#lbfactors = members.map((m) => m.lbfactor);
    this.#index = new Map(this.members.map((n, i) => [n, i]));
    const total = members.reduce((s, m) => s + Math.max(1, Math.round((m.lbfactor * POINTS_PER_LOADFACTOR) / 100)), 0);
    const scale = total > MAX_POINTS ? MAX_POINTS / total : 1;
    const counts = members.map((m) => Math.max(1, Math.round(((m.lbfactor * POINTS_PER_LOADFACTOR) / 100) * scale)));
    const size = counts.reduce((s, c) => s + c, 0);
    // point × 2^21 + member id is exact in a double (32 + 21 bits), so one numeric sort orders both.
    const keyed = new Float64Array(size);
    let at = 0;
    members.forEach((m, id) => {
      const h = hash32(m.name);
      for (let k = 0; k < counts[id]!; k++) keyed[at++] = pointOf(h, k) * 2 ** 21 + id;
    });
    keyed.sort();
    this.points = new Uint32Array(size);
    this.owners = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const v = keyed[i]!;
      const id = v % 2 ** 21;
      this.owners[i] = id;
      this.points[i] = (v - id) / 2 ** 21;
    }
    this.#buckets = new Int32Array(65537);
    let at2 = 0;
    for (let b = 0; b <= 65536; b++) {
      while (at2 < size && this.points[at2]! >>> 16 < b) at2++;
      this.#buckets[b] = at2;
    }
  }

  /** The member id of a name, or −1. */
  idOf(name: string): number {
    return this.#index.get(name) ?? -1;
  }

  /** Every candidate is a member with the lbfactor it was placed with. */
  covers(candidates: readonly Candidate[]): boolean {
    for (const w of candidates) {
      const id = this.#index.get(w.name);
      if (id === undefined || this.#lbfactors[id] !== w.lbfactor) return false;
    }
    return true;
  }

  /** The members to build the next ring from: these, plus every old member not among them. */
  with(candidates: readonly Candidate[]): { name: string; lbfactor: number }[] {
    const next = new Map<string, number>();
    this.members.forEach((name, id) => next.set(name, this.#lbfactors[id]!));
    for (const w of candidates) next.set(w.name, w.lbfactor);
    return [...next].map(([name, lbfactor]) => ({ name, lbfactor }));
  }

  /** The first point at or after h, wrapping to 0. */
  first(h: number): number {
    const points = this.points;
    const top = h >>> 16;
    let lo = this.#buckets[top]!;
    let hi = this.#buckets[top + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }
}
