/**
 * The three built-in schedulers, through the generic election and selectWorker, against the exact
 * sequences of apache.md §2.2-2.4 and the oracle recordings (expected/byrequests-*.json,
 * expected/bybusyness-basic.json). Expected sequences were computed independently of the core
 * (a line-by-line model of Apache 2.4's loop), never copied from its output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { harness, plain, type MemberDef, runTable } from './helpers/harness.js';

const lf = (id: string, loadfactor: number): MemberDef => ({ id, loadfactor });

describe('byrequests: sequences', () => {
  runTable([
    {
      name: 'equal loadfactors: round robin in config order (oracle byrequests-equal)',
      members: plain('a b c d'),
      events: 'pick*12',
      expected: 'a b c d a b c d a b c d',
    },
    {
      name: 'loadfactors 1,1,1,2 → d a b c d, period 5 (apache.md §2.2, oracle byrequests-weighted)',
      members: [lf('a', 1), lf('b', 1), lf('c', 1), lf('d', 2)],
      events: 'pick*10',
      expected: 'd a b c d d a b c d',
    },
    {
      name: 'equal loadfactors, b disabled → a c d (b takes no part in the counting)',
      members: ['a', { id: 'b', status: '+D' }, 'c', 'd'],
      events: 'pick*6',
      expected: 'a c d a c d',
    },
    {
      name: 'c disabled → a b d (oracle byrequests-disabled)',
      members: ['a', 'b', { id: 'c', status: '+D' }, 'd'],
      events: 'pick*9',
      expected: 'a b d a b d a b d',
    },
    {
      name: '70/30 → a b a a a b a a b a, period 10 (apache.md §2.2)',
      members: [lf('a', 70), lf('b', 30)],
      events: 'pick*20',
      expected: 'a b a a a b a a b a a b a a a b a a b a',
    },
    {
      name: 'decimal loadfactors 1.5 vs 1 → 3:2, period 5',
      members: [lf('a', 1.5), lf('b', 1)],
      events: 'pick*10',
      expected: 'a b a b a a b a b a',
    },
    {
      name: 'loadfactors 5,1,1 → smooth interleaving a a b a c a a',
      members: [lf('a', 5), lf('b', 1), lf('c', 1)],
      events: 'pick*14',
      expected: 'a a b a c a a a a b a c a a',
    },
    {
      name: 'ties go to config order, whatever the order of the weights',
      members: [lf('a', 2), lf('b', 2), lf('c', 2)],
      events: 'pick*6',
      expected: 'a b c a b c',
    },
    {
      name: 'the heavier member listed last still wins the first tie-free round',
      members: [lf('a', 1), lf('b', 3)],
      events: 'pick*8',
      expected: 'b a b b b a b b',
    },
    {
      name: 'a worker in error drops out and rejoins after its retry time',
      members: [{ id: 'a', retry: '10s' }, 'b', 'c'],
      events: 'pick*3, error a, pick*4, advance 10000, pick*3',
      expected: 'a b c b c b c a b c',
    },
    {
      name: 'a draining worker takes no balanced traffic',
      members: ['a', { id: 'b', status: '+N' }, 'c'],
      events: 'pick*4',
      expected: 'a c a c',
    },
    {
      name: 'disabling at run time and re-enabling: the frozen credit decides where it rejoins',
      members: plain('a b c'),
      events: 'pick, +D b, pick*4, -D b, pick*3',
      expected: 'a c c a c b a c',
    },
  ]);
});

describe('byrequests: lbstatus', () => {
  it('follows the table of apache.md §2.2 exactly (1,1,1,2)', () => {
    const h = harness([lf('a', 1), lf('b', 1), lf('c', 1), lf('d', 2)]);
    const table: [string, number[]][] = [
      ['d', [100, 100, 100, -300]],
      ['a', [-300, 200, 200, -100]],
      ['b', [-200, -200, 300, 100]],
      ['c', [-100, -100, -100, 300]],
      ['d', [0, 0, 0, 0]],
    ];
    for (const [pick, after] of table) {
      assert.equal(h.run('pick'), pick);
      assert.deepEqual(h.lbstatus(), after);
    }
  });

  it('matches the oracle snapshots of byrequests-disabled (c +D stays at 0)', () => {
    const h = harness(['a', 'b', { id: 'c', status: '+D' }, 'd']);
    const table: [string, number[]][] = [
      ['a', [-200, 100, 0, 100]],
      ['b', [-100, -100, 0, 200]],
      ['d', [0, 0, 0, 0]],
    ];
    for (const [pick, after] of table) {
      assert.equal(h.run('pick'), pick);
      assert.deepEqual(h.lbstatus(), after);
    }
  });

  it('keeps the sum of credits constant', () => {
    const h = harness([lf('a', 3), lf('b', 1.25), lf('c', 7)]);
    for (let i = 0; i < 50; i++) {
      h.run('pick');
      assert.equal(
        h.lbstatus().reduce((s, x) => s + x, 0),
        0,
      );
    }
  });

  it('keeps hundredths: 1.01 vs 1 leaves a +1/-1 remainder after two picks', () => {
    const h = harness([lf('a', 1.01), lf('b', 1)]);
    assert.equal(h.run('pick*2'), 'a b');
    assert.deepEqual(h.lbstatus(), [1, -1]);
  });

  const frozen: { name: string; events: string; worker: string }[] = [
    { name: 'disabled (+D in config)', events: '+D b', worker: 'b' },
    { name: 'in error', events: 'error b', worker: 'b' },
    { name: 'stopped', events: '+S b', worker: 'b' },
    { name: 'health check failed', events: '+C b', worker: 'b' },
    { name: 'draining', events: '+N b', worker: 'b' },
  ];
  for (const f of frozen) {
    it(`freezes the credit of a worker that is ${f.name}`, () => {
      const h = harness(plain('a b c d'));
      h.run('pick*2');
      const before = h.balancer.lbstatus(h.w(f.worker));
      assert.equal(before, -200);
      h.run(`${f.events}, pick*7`);
      assert.equal(h.balancer.lbstatus(h.w(f.worker)), before);
    });
  }

  it('counts elected per pick', () => {
    const h = harness([lf('a', 1), lf('b', 1), lf('c', 1), lf('d', 2)]);
    h.run('pick*10');
    assert.deepEqual(
      h.balancer.workers.map((w) => w.elected),
      [2, 2, 2, 4],
    );
  });

  it('reset() zeroes every credit, and the sequence starts afresh', () => {
    const h = harness([lf('a', 1), lf('b', 1), lf('c', 1), lf('d', 2)]);
    assert.equal(h.run('pick*2, reset'), 'd a');
    assert.deepEqual(h.lbstatus(), [0, 0, 0, 0]);
    assert.equal(h.run('pick*5'), 'd a b c d');
  });

  it('recalcFactors() restarts every credit at its lbfactor (Apache recalc_factors)', () => {
    const h = harness([lf('a', 1), lf('b', 2.5)]);
    h.run('pick*3');
    h.balancer.recalcFactors();
    assert.deepEqual(h.lbstatus(), [100, 250]);
  });

  it('setLbmethod() installs a fresh scheduler and resets its state', () => {
    const h = harness(plain('a b c'));
    h.run('pick*2');
    h.balancer.setLbmethod('byrequests');
    assert.deepEqual(h.lbstatus(), [0, 0, 0]);
    assert.equal(h.run('pick*3'), 'a b c');
  });
});

describe('bytraffic', () => {
  runTable([
    {
      name: 'weights 1,2,1, 200 B out + 800 B in per exchange → a b c b a b c b (apache.md §2.3)',
      members: [lf('a', 1), lf('b', 2), lf('c', 1)],
      balancer: { lbmethod: 'bytraffic' },
      events: 'xfer*8 200 800',
      expected: 'a b c b a b c b',
    },
    {
      name: 'no traffic at all: the first candidate every time (ties to config order)',
      members: plain('a b c'),
      balancer: { lbmethod: 'bytraffic' },
      events: 'pick*3',
      expected: 'a a a',
    },
    {
      name: 'a worker in error is skipped; the others share by traffic',
      members: plain('a b c'),
      balancer: { lbmethod: 'bytraffic' },
      events: 'error a, xfer*4 100 100',
      expected: 'b c b c',
    },
  ]);

  it('divides transferred and read by lbfactor separately, with integer division', () => {
    // b: 100/100 + 0/100 = 1. a: 99/100 + 99/100 = 0 + 0 = 0 (summing first would give 1 and a tie
    // won by b; float division would give 1.98).
    const h = harness(['b', 'a'], { lbmethod: 'bytraffic' });
    h.exchange('b', 100, 0);
    h.exchange('a', 99, 99);
    assert.equal(h.run('pick'), 'a');
  });

  it('uses lbfactor (loadfactor × 100), not loadfactor: 250 B at loadfactor 3 is 0', () => {
    const h = harness(['b', lf('a', 3)], { lbmethod: 'bytraffic' });
    h.exchange('b', 100, 0); // 1
    h.exchange('a', 250, 250); // 250/300 + 250/300 = 0
    assert.equal(h.run('pick'), 'a');
  });

  it('does not touch lbstatus', () => {
    const h = harness(plain('a b'), { lbmethod: 'bytraffic' });
    h.run('xfer*5 10 10');
    assert.deepEqual(h.lbstatus(), [0, 0]);
  });

  it('reset() zeroes transferred and read (and nothing else)', () => {
    const h = harness(plain('a b'), { lbmethod: 'bytraffic' });
    assert.equal(h.run('xfer*3 1000 1000, hold'), 'a b a b');
    h.w('a').lbstatus = 7; // not the scheduler's; must survive
    h.run('reset');
    assert.deepEqual(
      h.balancer.workers.map((w) => [w.transferred, w.read]),
      [
        [0, 0],
        [0, 0],
      ],
    );
    assert.equal(h.w('a').lbstatus, 7);
    assert.equal(h.w('b').busy, 1);
    assert.equal(h.run('pick'), 'a');
  });

  it('a re-enabled worker with no traffic takes everything until it catches up', () => {
    const h = harness(plain('a b'), { lbmethod: 'bytraffic' });
    assert.equal(h.run('+D a, xfer*3 100 0, -D a, xfer*5 100 0'), 'b b b a a a a b');
  });
});

describe('bybusyness', () => {
  runTable([
    {
      name: 'a=1 b=1 c=2, 4 long requests, then a and b finish → c a b c | a b a (apache.md §2.4)',
      members: [lf('a', 1), lf('b', 1), lf('c', 2)],
      balancer: { lbmethod: 'bybusyness' },
      events: 'hold*4, done a, done b, |, pick*3',
      expected: 'c a b c | a b a',
    },
    {
      name: 'all idle: exactly byrequests (1,1,1,2)',
      members: [lf('a', 1), lf('b', 1), lf('c', 1), lf('d', 2)],
      balancer: { lbmethod: 'bybusyness' },
      events: 'pick*10',
      expected: 'd a b c d d a b c d',
    },
    {
      name: 'oracle bybusyness-basic: sequential, then b and c busy, then the paid-up credit of a',
      members: plain('a b c'),
      balancer: { lbmethod: 'bybusyness' },
      events: 'pick*4, |, hold*2, |, pick*4, done b, done c, |, pick*6',
      expected: 'a b c a | b c | a a a a | b c b c b c',
    },
    {
      name: 'busy first: the least busy worker wins even with the lowest credit',
      members: plain('a b'),
      balancer: { lbmethod: 'bybusyness' },
      events: 'hold, pick*3',
      expected: 'a b b b',
    },
  ]);

  it('busy beats credit: the idle worker wins although the busy one has more credit', () => {
    const h = harness(plain('a b'), { lbmethod: 'bybusyness' });
    assert.equal(h.run('hold, pick*3'), 'a b b b');
    assert.deepEqual(h.lbstatus(), [200, -200]);
  });

  it('charges credit to every candidate while the busy one is skipped (oracle lbstatus)', () => {
    const h = harness(plain('a b c'), { lbmethod: 'bybusyness' });
    h.run('pick*4, hold*2');
    const table: [string, number[]][] = [
      ['a', [-200, 100, 100]],
      ['a', [-400, 200, 200]],
      ['a', [-600, 300, 300]],
      ['a', [-800, 400, 400]],
    ];
    for (const [pick, after] of table) {
      assert.equal(h.run('pick'), pick);
      assert.deepEqual(h.lbstatus(), after);
    }
  });

  it('reset() zeroes lbstatus but NOT busy (deliberate difference from Apache)', () => {
    const h = harness(plain('a b'), { lbmethod: 'bybusyness' });
    assert.equal(h.run('hold, pick*3'), 'a b b b');
    assert.notDeepEqual(h.lbstatus(), [0, 0]);
    h.run('reset');
    assert.deepEqual(h.lbstatus(), [0, 0]);
    assert.equal(h.w('a').busy, 1);
    // a is still busy after the reset, so b keeps winning; releasing a never goes negative.
    assert.equal(h.run('pick'), 'b');
    h.run('done a');
    assert.equal(h.w('a').busy, 0);
  });
});
