/**
 * p2c: two distinct candidates drawn by weight with the injected random source, the lower
 * busy^p2cbias / weight wins, the first drawn on a tie. Exact tables, then shares over 100 000 picks.
 */
import { describe, it } from 'node:test';
import { completed200 } from '../support/outcomes.js';
import assert from 'node:assert/strict';
import { p2c } from '../../lib/schedulers/p2c.js';
import { DEFAULT_SCHEDULER_OPTIONS } from '../../lib/schedulers/types.js';
import { CandidateGroup } from '../../lib/schedulers/group.js';
import type { Worker } from '../../lib/core/worker.js';
import { seededRandom } from '../support/clock.js';
import { build, cand, draws, host, select } from './helpers.js';

const now = (): number => 0;

describe('p2c: exact picks', () => {
  it('weights a=1 b=2 c=1: draws 0.3 → b, 0.9 → c (a is skipped past b); idle, b (first drawn)', () => {
    const [a, b, c] = [cand('a'), cand('b', 200), cand('c')];
    const s = p2c({ random: draws([0.3, 0.9]), now });
    assert.equal(s.pick([a, b, c]), b);
  });

  it('the less busy per weight wins: b 1 in flight (1/200) loses to idle c; c 1 in flight (1/100) loses to b', () => {
    const [a, b, c] = [cand('a'), cand('b', 200, 1), cand('c')];
    const s = p2c({ random: draws([0.3, 0.9, 0.3, 0.9]), now });
    assert.equal(s.pick([a, b, c]), c);
    c.busy = 1;
    assert.equal(s.pick([a, b, c]), b);
  });

  it('equal weights draw uniformly: i = ⌊r·n⌋, j = ⌊r·(n−1)⌋ stepping over i', () => {
    const ws = ['a', 'b', 'c', 'd'].map((n) => cand(n));
    ws[1]!.busy = 2;
    ws[2]!.busy = 1;
    // 0.3 → 1 (b, busy 2); 0.4 → ⌊1.2⌋ = 1 ≥ 1 → 2 (c, busy 1): c. 0.99 → 3 (d); 0 → 0 (a): tie → d.
    const s = p2c({ random: draws([0.3, 0.4, 0.99, 0]), now });
    assert.equal(s.pick(ws), ws[2]);
    assert.equal(s.pick(ws), ws[3]);
  });

  it('p2cbias 0 ignores busy (the first drawn wins), 2 squares it', () => {
    const a = cand('a', 100, 3);
    const b = cand('b', 300, 5);
    const opts = (p2cbias: number) => ({ ...DEFAULT_SCHEDULER_OPTIONS, p2cbias });
    // W=400: 0.1·400 = 40 → a; then 0.5·(400−100) = 150 ≥ 0 → 250 → b.
    assert.equal(p2c({ random: draws([0.1, 0.5]), now, options: opts(0) }).pick([a, b]), a);
    // bias 1: a 3/100 = 0.03, b 5/300 ≈ 0.017 → b; bias 2: a 9/100 = 0.09, b 25/300 ≈ 0.083 → b;
    // bias 3: a 27/100 = 0.27, b 125/300 ≈ 0.42 → a.
    assert.equal(p2c({ random: draws([0.1, 0.5]), now, options: opts(1) }).pick([a, b]), b);
    assert.equal(p2c({ random: draws([0.1, 0.5]), now, options: opts(2) }).pick([a, b]), b);
    assert.equal(p2c({ random: draws([0.1, 0.5]), now, options: opts(3) }).pick([a, b]), a);
  });

  it('one candidate is returned without a draw', () => {
    const a = cand('a');
    assert.equal(p2c({ random: draws([]), now }).pick([a]), a);
  });

  it('the cached group and a plain array pick the same with the same draws', () => {
    const ws = [cand('a', 100), cand('b', 250), cand('c', 50, 1), cand('d', 300, 2)];
    const r1 = seededRandom(5);
    const r2 = seededRandom(5);
    const plain = p2c({ random: r1, now });
    const cached = p2c({ random: r2, now });
    const group = new CandidateGroup(ws);
    for (let i = 0; i < 2000; i++) assert.equal(cached.pickCached!(group), plain.pick(ws), `pick ${i}`);
  });
});

describe('p2c: through the election, 100 000 picks', () => {
  const weights = [1, 2, 3, 4];
  const members = weights.map((loadfactor, i) => ({ id: `w${i}`, loadfactor }));

  it('idle: shares follow the weights within ±1 pp', () => {
    const b = build(members, { lbmethod: 'p2c' }, seededRandom(42));
    const counts = new Map<string, number>();
    for (let i = 0; i < 100_000; i++) {
      const h = host(select(b));
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    weights.forEach((lf, i) => {
      const share = (counts.get(`w${i}`) ?? 0) / 1000;
      assert.ok(Math.abs(share - lf * 10) <= 1, `w${i}: ${share} % for weight ${lf}`);
    });
  });

  it('with 100 requests in flight (the oldest ending as each new one starts): within ±1 pp', () => {
    const b = build(members, { lbmethod: 'p2c' }, seededRandom(7));
    const counts = new Map<string, number>();
    const held: Worker[] = [];
    for (let i = 0; i < 100_000; i++) {
      const w = select(b)!;
      counts.set(host(w), (counts.get(host(w)) ?? 0) + 1);
      b.acquire(w);
      held.push(w);
      if (held.length > 100) b.release(held.shift()!, completed200(), 'GET');
    }
    weights.forEach((lf, i) => {
      const share = (counts.get(`w${i}`) ?? 0) / 1000;
      assert.ok(Math.abs(share - lf * 10) <= 1, `w${i}: ${share} % for weight ${lf}`);
    });
  });
});
