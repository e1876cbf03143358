/**
 * ewma: peak-EWMA of response-head latency, cost = latency × (busy + 1) / weight over two random
 * choices. Exact costs with a fake clock and listed draws.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ewma, FAILURE_FLOOR_MS } from '../../lib/schedulers/ewma.js';
import { FakeClock } from '../support/clock.js';
import { cand, draws } from './helpers.js';

/** Two draws that pick positions (0, 1) of a two-candidate list: a first, then b. */
const AB = [0, 0];

function setup(values: number[]) {
  const clock = new FakeClock(0);
  const s = ewma({ random: draws(values), now: () => clock.now() });
  return { s, clock };
}

describe('ewma: exact picks', () => {
  it('the faster worker wins; equal latency compares in flight + 1', () => {
    const a = cand('a');
    const b = cand('b');
    const { s } = setup([...AB, ...AB, ...AB]);
    s.observe!(a, { latencyMs: 100, failed: false });
    s.observe!(b, { latencyMs: 20, failed: false });
    assert.equal(s.pick([a, b]), b); // 100 × 1 vs 20 × 1
    b.busy = 4; // 20 × 5 = 100: a tie keeps the first drawn, a
    assert.equal(s.pick([a, b]), a);
    b.busy = 5; // 20 × 6 = 120 > 100
    assert.equal(s.pick([a, b]), a);
  });

  it('a slower sample is taken at once; a faster one pulls by 1 − e^(−Δt/decay), a stale one drifts to the median', () => {
    const a = cand('a');
    const b = cand('b');
    const { s, clock } = setup([...AB, ...AB]);
    s.observe!(a, { latencyMs: 50, failed: false });
    s.observe!(b, { latencyMs: 60, failed: false }); // median 55
    s.observe!(a, { latencyMs: 500, failed: false }); // peak: a is 500 at once
    assert.equal(s.pick([a, b]), b);
    // 30 s (3 decay times) later a has drifted to 55 + 445·e^−3 ≈ 77.2, and a sample of 10 pulls it
    // to 77.2 + (10 − 77.2)(1 − e^−3) ≈ 13.3; the median becomes (13.3 + 60) / 2 ≈ 36.7, and b,
    // unobserved for 30 s, costs 36.7 + (60 − 36.7)·e^−3 ≈ 37.8: a is cheaper.
    clock.advance(30_000);
    s.observe!(a, { latencyMs: 10, failed: false });
    assert.equal(s.pick([a, b]), a);
  });

  it('a failure counts as max(its time, 10 × median, 1 s)', () => {
    const a = cand('a');
    const b = cand('b');
    const { s } = setup([...AB, ...AB]);
    s.observe!(a, { latencyMs: 5, failed: false });
    s.observe!(b, { latencyMs: 5, failed: false });
    s.observe!(a, { latencyMs: 1, failed: true }); // 1000 ms
    b.busy = 150; // 5 × 151 = 755 < 1000
    assert.equal(s.pick([a, b]), b);
    b.busy = 199; // 5 × 200 = 1000: tie, a (first drawn)
    assert.equal(s.pick([a, b]), a);
    assert.equal(FAILURE_FLOOR_MS, 1000);
  });

  it('a worker never observed costs the median: between a fast and a slow one', () => {
    const [a, b, c] = [cand('a'), cand('b'), cand('c')];
    const { s } = setup([0, 0, 0, 0.99]);
    s.observe!(a, { latencyMs: 10, failed: false });
    s.observe!(b, { latencyMs: 30, failed: false });
    s.observe!(c, { latencyMs: 50, failed: false });
    const fresh = cand('d');
    // Equal weights: i = ⌊r·3⌋, j = ⌊r·2⌋ stepping over i. Draws 0, 0: fresh (median 30) vs a (10): a.
    // Draws 0, 0.99: fresh vs c (50): fresh.
    assert.equal(s.pick([fresh, a, c]), a);
    assert.equal(s.pick([fresh, a, c]), fresh);
  });

  it('reset forgets every average', () => {
    const a = cand('a');
    const b = cand('b');
    const { s } = setup([...AB]);
    s.observe!(a, { latencyMs: 900, failed: false });
    s.observe!(b, { latencyMs: 10, failed: false });
    s.reset!([a, b]);
    assert.equal(s.pick([a, b]), a); // both unknown: equal cost, the first drawn
  });
});
