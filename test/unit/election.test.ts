/**
 * The generic election (lib/core/election.ts, Apache's ap_proxy_balancer_get_best_worker):
 * lbset tiers, hot spares filling holes, hot standbys as the last resort of a tier, draining, the
 * retry check on the way and the avoid set. Sequences from apache.md §2.1-2.2 and the oracle's
 * hot-standby / lbset-tiers recordings.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { elect } from '../../lib/select/election.js';
import { harness, host, plain, type MemberDef, runTable } from './helpers/harness.js';

describe('election: the tier examples of apache.md §2.2', () => {
  runTable([
    {
      name: 'a ok, b in error, spare r, standby h, x in lbset 1 → a r a r (r replaces b; h and x idle)',
      members: ['a', 'b', { id: 'r', status: '+R' }, { id: 'h', status: '+H' }, { id: 'x', lbset: 1 }],
      events: 'error b, pick*6',
      expected: 'a r a r a r',
    },
    {
      name: 'a in error, b disabled, standby h in lbset 0, x in lbset 1 → h h h (standby of set 0 beats set 1)',
      members: ['a', { id: 'b', status: '+D' }, { id: 'h', status: '+H' }, { id: 'x', lbset: 1 }],
      events: 'error a, pick*3',
      expected: 'h h h',
    },
    {
      name: 'a in error, b disabled in set 0; x (lf 1), y (lf 2) in set 1 → y x y y x y',
      members: ['a', { id: 'b', status: '+D' }, { id: 'x', lbset: 1 }, { id: 'y', lbset: 1, loadfactor: 2 }],
      events: 'error a, pick*6',
      expected: 'y x y y x y',
    },
    {
      name: 'a, b in error, standbys h1 (lf 1), h2 (lf 3) → h2 h1 h2 h2 | h2 h1 h2 h2 (weighted among themselves)',
      members: ['a', 'b', { id: 'h1', status: '+H' }, { id: 'h2', status: '+H', loadfactor: 3 }],
      events: 'error a, error b, pick*4, |, pick*4',
      expected: 'h2 h1 h2 h2 | h2 h1 h2 h2',
    },
  ]);
});

describe('election: oracle recordings (selection only)', () => {
  runTable([
    {
      name: 'hot-standby: c +H unused while a or b is usable, used only when both are out, dropped when a is back',
      members: ['a', 'b', { id: 'c', status: '+H', retry: '2s' }].map((m) =>
        typeof m === 'string' ? { id: m, retry: '2s' } : m,
      ),
      events: 'pick*4, |, error a, pick*3, |, error b, pick*4, |, -E a, pick*4',
      expected: 'a b a b | b b b | c c c c | a a a a',
    },
    {
      name: 'lbset-tiers: set 1 unused while set 0 has a usable member, then c d c d, then set 0 again',
      members: [
        { id: 'a', lbset: 0 },
        { id: 'b', lbset: 0 },
        { id: 'c', lbset: 1 },
        { id: 'd', lbset: 1 },
      ],
      events: 'pick*4, |, error a, pick*3, |, error b, pick*5, |, -E a, pick*4',
      expected: 'a b a b | b b b | c d c d c | a a a a',
    },
  ]);
});

describe('election: lbset tiers', () => {
  runTable([
    {
      name: 'lowest lbset first, whatever the config order',
      members: [{ id: 'x', lbset: 1 }, 'a', { id: 'y', lbset: 2 }],
      events: 'pick*3',
      expected: 'a a a',
    },
    {
      name: 'lbsets need not be contiguous: 0 → 5 → 99',
      members: [{ id: 'z', lbset: 99 }, { id: 'y', lbset: 5 }, 'a'],
      events: 'pick, error a, pick, error y, pick, -E y, pick',
      expected: 'a y z y',
    },
    {
      name: 'a spare of lbset 1 does not fill a hole of lbset 0',
      members: ['a', 'b', { id: 'r', status: '+R', lbset: 1 }],
      events: 'error a, pick*3',
      expected: 'b b b',
    },
    {
      name: 'a standby of lbset 1 is not used while lbset 0 has a regular member',
      members: ['a', { id: 'h', status: '+H', lbset: 1 }],
      events: 'pick*2',
      expected: 'a a',
    },
    {
      name: 'a standby of lbset 0 is used before the regular members of lbset 1',
      members: ['a', { id: 'x', lbset: 1 }, { id: 'h', status: '+H' }],
      events: 'error a, pick*2',
      expected: 'h h',
    },
    {
      name: 'every tier empty → no worker',
      members: [
        { id: 'a', status: '+D' },
        { id: 'x', lbset: 1, status: '+S' },
        { id: 'h', status: '+H +D' },
      ],
      events: 'pick',
      expected: '-',
    },
  ]);

  it('setLbset() at run time moves a worker to its new tier', () => {
    const h = harness(plain('a b'));
    assert.equal(h.run('pick*2'), 'a b');
    h.balancer.setLbset(h.w('a'), 1);
    assert.equal(h.run('pick*3'), 'b b b');
    h.balancer.setLbset(h.w('b'), 2);
    assert.equal(h.run('pick*2'), 'a a');
  });
});

describe('election: hot spares fill exactly as many holes as there are', () => {
  const spares: MemberDef[] = [
    'a',
    'b',
    'c',
    { id: 'r1', status: '+R' },
    { id: 'r2', status: '+R' },
    { id: 'r3', status: '+R' },
  ];
  runTable([
    { name: 'no hole: spares idle', members: spares, events: 'pick*6', expected: 'a b c a b c' },
    { name: 'one hole (error): first spare', members: spares, events: 'error a, pick*6', expected: 'b c r1 b c r1' },
    {
      name: 'two holes (error, disabled): first two spares',
      members: spares,
      events: 'error a, +D b, pick*6',
      expected: 'c r1 r2 c r1 r2',
    },
    {
      name: 'three holes (error, stopped, health check): all spares',
      members: spares,
      events: 'error a, +S b, +C c, pick*6',
      expected: 'r1 r2 r3 r1 r2 r3',
    },
    {
      name: 'a draining regular worker is a hole',
      members: spares,
      events: '+N b, pick*6',
      expected: 'a c r1 a c r1',
    },
    {
      name: 'an unusable spare is not counted; the next usable spare fills the hole',
      members: spares,
      events: '+D r1, error a, pick*3',
      expected: 'b c r2',
    },
    {
      name: 'a draining spare is neither used nor a hole',
      members: spares,
      events: '+N r1, error a, pick*3',
      expected: 'b c r2',
    },
    {
      name: 'a draining standby is not a hole',
      members: ['a', 'b', { id: 'h', status: '+H +N' }, { id: 'r', status: '+R' }],
      events: 'pick*4',
      expected: 'a b a b',
    },
    {
      name: 'more holes than spares: every spare, no more',
      members: ['a', 'b', 'c', { id: 'r', status: '+R' }],
      events: 'error a, error b, pick*4',
      expected: 'c r c r',
    },
    {
      name: 'spares compete with the regular workers by weight',
      members: ['a', 'b', { id: 'r', status: '+R', loadfactor: 2 }],
      events: 'error b, pick*6',
      expected: 'r a r r a r',
    },
    {
      name: 'a worker flagged both R and H counts as a spare',
      members: ['a', 'b', { id: 'rh', status: '+R +H' }],
      events: 'error a, pick*2',
      expected: 'b rh',
    },
  ]);
});

describe('election: hot standbys', () => {
  runTable([
    {
      name: 'never used while a regular member is usable',
      members: ['a', { id: 'h', status: '+H' }],
      events: 'pick*3',
      expected: 'a a a',
    },
    {
      name: 'not used while a spare fills the tier',
      members: ['a', { id: 'r', status: '+R' }, { id: 'h', status: '+H' }],
      events: 'error a, pick*3',
      expected: 'r r r',
    },
    {
      name: 'used when the only regular member drains (no spare)',
      members: ['a', { id: 'h', status: '+H' }],
      events: '+N a, pick*2',
      expected: 'h h',
    },
    {
      name: 'equal standbys rotate in config order',
      members: ['a', { id: 'h1', status: '+H' }, { id: 'h2', status: '+H' }],
      events: '+D a, pick*4',
      expected: 'h1 h2 h1 h2',
    },
    {
      name: 'an unusable standby is skipped',
      members: ['a', { id: 'h1', status: '+H +D' }, { id: 'h2', status: '+H' }],
      events: '+D a, pick*2',
      expected: 'h2 h2',
    },
  ]);

  it("keeps an idle standby's credit frozen at 0 (oracle hot-standby snapshots)", () => {
    const h = harness(['a', 'b', { id: 'c', status: '+H' }]);
    h.run('pick*3');
    assert.deepEqual(h.lbstatus(), [-100, 100, 0]);
  });
});

describe('election: retry check on the way', () => {
  it('clears the error of a worker whose retry has passed before ranking it', () => {
    const h = harness([{ id: 'a', retry: '1s' }, 'b']);
    assert.equal(h.run('error a, pick*2, advance 1000, pick'), 'b b a');
    assert.equal(h.w('a').retries, 1);
    assert.equal(h.w('a').inError, false);
  });

  it('does not run the retry check on a draining worker', () => {
    // elect() alone: selectWorker's forceRecovery() would retry a itself.
    const h = harness([{ id: 'a', retry: 0 }, 'b']);
    h.run('error a, +N a');
    assert.equal(host(elect(h.balancer.selector, undefined)), 'b');
    assert.equal(h.w('a').inError, true);
    h.run('-N a');
    assert.equal(host(elect(h.balancer.selector, undefined)), 'a');
    assert.equal(h.w('a').inError, false);
  });

  it('does not visit a higher tier once a lower one had a candidate', () => {
    const h = harness(['a', { id: 'x', lbset: 1, retry: 0 }]);
    h.run('error x, pick');
    assert.equal(h.w('x').inError, true);
  });
});

describe('election: avoid set', () => {
  it('skips avoided workers and counts them as holes for spares', () => {
    const h = harness(['a', 'b', { id: 'r', status: '+R' }]);
    const avoid = new Set([h.w('a')]);
    const picks = [0, 1, 2, 3].map(() => host(elect(h.balancer.selector, avoid)));
    assert.deepEqual(picks, ['b', 'r', 'b', 'r']);
  });

  it('skips avoided spares and standbys', () => {
    const h = harness(['a', { id: 'r', status: '+R' }, { id: 'h1', status: '+H' }, { id: 'h2', status: '+H' }]);
    h.run('error a');
    assert.equal(host(elect(h.balancer.selector, new Set([h.w('r')]))), 'h1');
    assert.equal(host(elect(h.balancer.selector, new Set([h.w('r'), h.w('h1')]))), 'h2');
  });

  it('falls through to the next tier when the whole tier is avoided', () => {
    const h = harness(['a', 'b', { id: 'x', lbset: 1 }]);
    assert.equal(host(elect(h.balancer.selector, new Set([h.w('a'), h.w('b')]))), 'x');
  });

  it('returns undefined when every worker is avoided, and selectWorker reports no-worker', () => {
    const h = harness(plain('a b'));
    const all = new Set(h.balancer.workers);
    assert.equal(elect(h.balancer.selector, all), undefined);
    const { selection } = h.select(undefined, all);
    assert.deepEqual(selection, { worker: undefined, reason: 'no-worker' });
  });

  it('does not charge credit to avoided workers', () => {
    const h = harness(plain('a b c'));
    elect(h.balancer.selector, new Set([h.w('a')]));
    assert.deepEqual(h.lbstatus(), [0, -100, 100]);
  });
});
