/**
 * hash: consistent hashing with bounded loads over a ring of weighted virtual nodes. The same key
 * reaches the same worker while the set is unchanged; adding one worker to 10 moves about 1/11 of
 * the keys, removing one moves only its own; no worker goes past its bound under a skewed load.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hash } from '../../lib/schedulers/hash.js';
import { Ring, hash32 } from '../../lib/schedulers/ring.js';
import { DEFAULT_SCHEDULER_OPTIONS, type Candidate } from '../../lib/schedulers/types.js';
import { CandidateGroup } from '../../lib/schedulers/group.js';
import { seededRandom } from '../support/clock.js';
import { cand, draws } from './helpers.js';

const now = (): number => 0;
const unbounded = { ...DEFAULT_SCHEDULER_OPTIONS, hashbalancefactor: 0 };
const KEYS = Array.from({ length: 100_000 }, (_, i) => `user-${i}`);

function workers(n: number, from = 0): (Candidate & { busy: number })[] {
  return Array.from({ length: n }, (_, i) => cand(`http://10.0.0.${from + i}:8080`));
}

/** Where each key goes, by worker name, through the cached group. */
function placement(ws: readonly Candidate[]): string[] {
  const s = hash({ random: draws([]), now, options: unbounded });
  const g = new CandidateGroup(ws);
  return KEYS.map((k) => s.pickCached!(g, k).name);
}

describe('hash: the ring', () => {
  it('a key goes to the owner of the first point at or after its hash (the reference walk)', () => {
    const ws = workers(7);
    const ring = new Ring(ws);
    const s = hash({ random: draws([]), now, options: unbounded });
    for (const k of KEYS.slice(0, 2000)) {
      const h = hash32(k);
      // O(n) reference: the point with the smallest clockwise distance from h.
      let best = -1;
      let bestDist = Infinity;
      ring.points.forEach((p, i) => {
        const d = p >= h ? p - h : p + 2 ** 32 - h;
        if (d < bestDist) {
          bestDist = d;
          best = i;
        }
      });
      assert.equal(s.pick(ws, k).name, ring.members[ring.owners[best]!], k);
    }
  });

  it('points follow the lbfactor: 100 per loadfactor', () => {
    const ring = new Ring([cand('a', 100), cand('b', 250)]);
    const count = (id: number): number => ring.owners.filter((o) => o === id).length;
    assert.deepEqual([count(0), count(1)], [100, 250]);
  });

  it('the same key lands on the same worker every time while the set is unchanged', () => {
    const ws = workers(10);
    assert.deepEqual(placement(ws), placement(ws));
    const s = hash({ random: draws([]), now, options: unbounded });
    const first = KEYS.slice(0, 1000).map((k) => s.pick(ws, k).name);
    const again = KEYS.slice(0, 1000).map((k) => s.pick(ws, k).name);
    assert.deepEqual(again, first);
  });

  it('adding one worker to 10 moves ≤ 12 % of 100 000 keys, all of them to the new worker', () => {
    const ten = workers(10);
    const eleven = [...ten, ...workers(1, 10)];
    const before = placement(ten);
    const after = placement(eleven);
    let moved = 0;
    before.forEach((w, i) => {
      if (after[i] !== w) {
        moved++;
        assert.equal(after[i], eleven[10]!.name);
      }
    });
    assert.ok(moved > 0 && moved <= 12_000, `${moved} keys moved`);
  });

  it('removing one of 10 moves only the keys it had', () => {
    const ten = workers(10);
    const before = placement(ten);
    const gone = ten[3]!.name;
    const after = placement(ten.filter((w) => w.name !== gone));
    let moved = 0;
    before.forEach((w, i) => {
      if (after[i] !== w) {
        moved++;
        assert.equal(w, gone, KEYS[i]);
      }
    });
    assert.equal(moved, before.filter((w) => w === gone).length);
  });

  it('a scheduler that saw a worker keeps its points when it leaves and comes back (no rebuild moves keys)', () => {
    const ten = workers(10);
    const s = hash({ random: draws([]), now, options: unbounded });
    const all = new CandidateGroup(ten);
    const before = KEYS.slice(0, 5000).map((k) => s.pickCached!(all, k).name);
    const nine = new CandidateGroup(ten.slice(1));
    for (const k of KEYS.slice(0, 5000)) s.pickCached!(nine, k);
    const back = new CandidateGroup(ten);
    assert.deepEqual(
      KEYS.slice(0, 5000).map((k) => s.pickCached!(back, k).name),
      before,
    );
  });
});

describe('hash: bounded loads', () => {
  it('a worker at its bound passes the request to the next owner on the ring', () => {
    const ws = workers(4);
    const s = hash({ random: draws([]), now }); // factor 125
    const key = 'k';
    const home = s.pick(ws, key);
    // 4 in flight on home: bound = ⌈1.25 × (4 + 1) / 4⌉ = 2 < 4 + 1, so the walk goes on.
    home.busy = 4;
    const next = s.pick(ws, key);
    assert.notEqual(next, home);
    // 1 in flight: ⌈1.25 × 2 / 4⌉ = 1 < 2: still passed on; 0: home again.
    home.busy = 1;
    assert.equal(s.pick(ws, key), next);
    home.busy = 0;
    assert.equal(s.pick(ws, key), home);
  });

  it('under a skewed key distribution no worker goes past ⌈1.25 × (in flight + 1) / n⌉', () => {
    const ws = workers(10);
    const group = new CandidateGroup(ws);
    const s = hash({ random: draws([]), now });
    const r = seededRandom(3);
    const held: (typeof ws)[number][] = [];
    let total = 0;
    for (let i = 0; i < 100_000; i++) {
      // Zipf-like: a few keys carry most requests.
      const key = `hot-${Math.floor(1 / (r() + 0.001))}`;
      const bound = Math.ceil((125 * (total + 1)) / (100 * ws.length));
      const w = s.pickCached!(group, key);
      assert.ok(w.busy + 1 <= bound, `pick ${i}: ${w.name} at ${w.busy} with bound ${bound}`);
      w.busy++;
      total++;
      s.countersChanged!(w);
      held.push(w);
      if (held.length > 200) {
        const done = held.splice(Math.floor(r() * held.length), 1)[0]!;
        done.busy--;
        total--;
        s.countersChanged!(done);
      }
    }
    assert.equal(total, 200);
  });

  it('a request without a key is balanced by p2c with the injected draws', () => {
    const ws = workers(4);
    ws[1]!.busy = 3;
    // i = ⌊0.3·4⌋ = 1 (busy 3), j = ⌊0.5·3⌋ = 1 → 2 (idle): the second.
    const s = hash({ random: draws([0.3, 0.5]), now });
    assert.equal(s.pick(ws, undefined), ws[2]);
  });
});
