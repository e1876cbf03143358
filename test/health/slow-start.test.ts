/**
 * Slow start: a worker that is enabled, recovers from E/C, or is added ramps its weight from the
 * floor to full over the window, for every built-in scheduler. Measured: its share of picks per
 * tenth of the window rises from about floor/(2 + floor) to about 1/3 (three equal workers).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DISABLED, HC_FAIL } from '../../lib/model/status.js';
import { validateMember } from '../../lib/config/validate.js';
import { rig, type Rig } from './helpers.js';

const members = ['a', 'b', 'c'].map((h) => ({ url: `http://${h}:8080` }));

/** Share of worker b in each tenth of a 10 s window (300 picks each), then after the window. */
function shares(r: Rig, bytes: number): number[] {
  const out: number[] = [];
  for (let slice = 0; slice < 11; slice++) {
    const seq = r.picks(300, bytes).split(' ');
    out.push(seq.filter((x) => x === 'b').length / seq.length);
    r.clock.advance(1000);
  }
  return out;
}

function assertRamp(s: number[]): void {
  const pct = s.map((x) => Math.round(x * 100));
  assert.ok(s[0]! < 0.08, `starts near the floor: ${pct.join(' ')}`);
  for (let i = 1; i < s.length; i++) assert.ok(s[i]! >= s[i - 1]! - 0.02, `rises: ${pct.join(' ')}`);
  assert.ok(s[5]! > 0.15 && s[5]! < 0.25, `half way ≈ 0.5/2.5: ${pct.join(' ')}`);
  assert.ok(Math.abs(s[10]! - 1 / 3) < 0.02, `full share after the window: ${pct.join(' ')}`);
}

describe('slow start', () => {
  for (const lbmethod of ['byrequests', 'bybusyness', 'bytraffic']) {
    it(`${lbmethod}: a re-enabled worker's share rises over the window`, () => {
      const r = rig(members, { lbmethod, slowstart: { window: '10s', minWeightPercent: 10 } });
      try {
        r.balancer.setFlag(r.w(1), DISABLED, true, 'test');
        r.picks(50, 1000);
        r.balancer.setFlag(r.w(1), DISABLED, false, 'test');
        assert.ok(r.w(1).ramp, 'ramp started');
        assertRamp(shares(r, 1000));
        assert.equal(r.w(1).ramp, undefined, 'ramp over');
        assert.equal(r.w(1).weight, r.w(1).lbfactor);
      } finally {
        r.stop();
      }
    });
  }

  it('a worker recovering from C (passing health check) ramps too; aggression shapes the curve', () => {
    const r = rig(members, { slowstart: { window: '10s', minWeightPercent: 10, aggression: 2 } });
    try {
      r.balancer.setFlag(r.w(1), HC_FAIL, true, 'test');
      r.balancer.setFlag(r.w(1), HC_FAIL, false, 'test');
      r.clock.advance(2500);
      r.picks(1);
      // (0.25)^(1/2) = 0.5 of the weight after a quarter of the window.
      assert.equal(r.w(1).weight, 50);
    } finally {
      r.stop();
    }
  });

  it('a worker back from E does not cash in credit frozen while it was out', () => {
    const r = rig(members, { slowstart: '10s' });
    try {
      r.balancer.setLbstatus(r.w(1), 5000);
      r.balancer.markError(r.w(1), 'test');
      r.balancer.setFlag(r.w(1), 0x10, false, 'test');
      assert.ok(r.balancer.lbstatus(r.w(1)) <= 0);
      assert.doesNotMatch(r.picks(3), /b b/);
    } finally {
      r.stop();
    }
  });

  it('a worker added at run time ramps', () => {
    const r = rig(members, { slowstart: '10s', growth: 1 });
    try {
      const spec = validateMember('m', { url: 'http://d:8080' });
      const d = r.balancer.addWorker(spec);
      assert.ok(d.ramp);
      assert.deepEqual(
        r.events.map((e) => e.type),
        ['worker-added'],
      );
    } finally {
      r.stop();
    }
  });

  it('without slowstart nothing ramps', () => {
    const r = rig(members);
    try {
      r.balancer.setFlag(r.w(1), DISABLED, true, 'test');
      r.balancer.setFlag(r.w(1), DISABLED, false, 'test');
      assert.equal(r.w(1).ramp, undefined);
      assert.equal(r.picks(6), 'a b c a b c');
    } finally {
      r.stop();
    }
  });
});
