/**
 * Error state and recovery (lib/balancer/balancer.ts): markError, retryWorker (Apache's
 * ap_proxy_retry_worker), forceRecovery (force_recovery) and the statechange events, driven by
 * the FakeClock. apache.md §1.2 (forcerecovery), §1.3 (retry), §4 (recovery).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DISABLED, IGNORE_ERRORS, IN_ERROR } from '../../lib/model/status.js';
import { harness, plain, type BalancerDef, type MemberDef } from './helpers/harness.js';

const T0 = 1_000_000; // FakeClock's start

describe('markError', () => {
  it('sets E and errorTime, and emits one statechange', () => {
    const h = harness(plain('a b'));
    h.clock.advance(250);
    h.balancer.markError(h.w('a'), 'connect failed: ECONNREFUSED');
    assert.equal(h.w('a').inError, true);
    assert.equal(h.w('a').isUsable(), false);
    assert.equal(h.w('a').errorTime, T0 + 250);
    assert.deepEqual(h.events, [
      {
        balancer: 'balancer://test',
        worker: 'http://a:8080',
        from: '',
        to: 'E',
        reason: 'connect failed: ECONNREFUSED',
        time: T0 + 250,
      },
    ]);
  });

  it('marking a worker already in error restarts its retry window but emits nothing', () => {
    const h = harness([{ id: 'a', retry: '10s' }, 'b']);
    h.run('error a, advance 6000, error a');
    assert.equal(h.w('a').errorTime, T0 + 6000);
    assert.equal(h.events.length, 1);
    h.run('advance 9999');
    h.balancer.retryWorker(h.w('a'));
    assert.equal(h.w('a').inError, true, 'the window restarted at the second error');
  });

  it('never puts a worker with I (ignore errors) in error', () => {
    const h = harness([{ id: 'a', status: '+I' }, 'b']);
    h.run('error a');
    assert.equal(h.w('a').inError, false);
    assert.equal(h.w('a').errorTime, 0);
    assert.deepEqual(h.events, []);
  });

  it('setFlag(E) goes through markError (errorTime set; I still wins)', () => {
    const h = harness([{ id: 'a' }, { id: 'b', status: '+I' }]);
    h.balancer.setFlag(h.w('a'), IN_ERROR, true, 'manager');
    h.balancer.setFlag(h.w('b'), IN_ERROR, true, 'manager');
    assert.equal(h.w('a').errorTime, T0);
    assert.equal(h.w('a').inError, true);
    assert.equal(h.w('b').inError, false);
  });
});

describe('retryWorker: the retry boundary', () => {
  const cases: { name: string; member: MemberDef; wait: number; retried: boolean }[] = [
    { name: 'default retry 60 s: not at 59 999 ms', member: { id: 'a' }, wait: 59_999, retried: false },
    { name: 'default retry 60 s: retried at 60 000 ms', member: { id: 'a' }, wait: 60_000, retried: true },
    { name: "retry '2s': not 1 ms before", member: { id: 'a', retry: '2s' }, wait: 1_999, retried: false },
    { name: "retry '2s': retried at errorTime + retry", member: { id: 'a', retry: '2s' }, wait: 2_000, retried: true },
    { name: 'retry 500 (ms): retried at 500', member: { id: 'a', retry: 500 }, wait: 500, retried: true },
    { name: 'retry 500 (ms): not at 499', member: { id: 'a', retry: 500 }, wait: 499, retried: false },
    { name: 'retry 0: retried at once, same millisecond', member: { id: 'a', retry: 0 }, wait: 0, retried: true },
    {
      name: "retry '60s': not retried in the same millisecond",
      member: { id: 'a', retry: '60s' },
      wait: 0,
      retried: false,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = harness([c.member, 'b']);
      h.run(`error a, advance ${c.wait}`);
      h.balancer.retryWorker(h.w('a'));
      assert.equal(h.w('a').inError, !c.retried);
      assert.equal(h.w('a').retries, c.retried ? 1 : 0);
    });
  }

  it('a worker that ignores errors (I) leaves error state at once, inside its retry window', () => {
    const h = harness([{ id: 'a', retry: '60s' }, 'b']);
    h.run('error a, +I a');
    h.balancer.retryWorker(h.w('a'));
    assert.equal(h.w('a').inError, false);
    assert.equal(h.w('a').retries, 1);
  });

  it('never retries a stopped worker (S), however long it waits', () => {
    const h = harness([{ id: 'a', retry: 0, status: '+S' }, 'b']);
    h.run('error a, advance 86400000');
    h.balancer.retryWorker(h.w('a'));
    assert.equal(h.w('a').inError, true);
    assert.equal(h.w('a').retries, 0);
  });

  it('never retries a stopped worker even with I', () => {
    const h = harness([{ id: 'a', retry: 0 }, 'b']);
    h.run('error a, +S a, +I a');
    h.balancer.retryWorker(h.w('a'));
    assert.equal(h.w('a').inError, true);
  });

  it('is a no-op for a worker not in error', () => {
    const h = harness([{ id: 'a', status: '+D' }, 'b']);
    h.balancer.retryWorker(h.w('a'));
    assert.equal(h.w('a').retries, 0);
    assert.equal(h.events.length, 0);
  });

  it('clears only E: a disabled worker in error stays disabled', () => {
    const h = harness([{ id: 'a', retry: 0, status: '+D' }, 'b']);
    h.run('error a');
    h.balancer.retryWorker(h.w('a'));
    assert.equal(h.w('a').status, DISABLED);
  });

  it('a worker configured +E has errorTime 0, so its first retry check clears it (as Apache: error_time 0)', () => {
    const h = harness([{ id: 'a', status: '+E' }, 'b']);
    assert.equal(h.w('a').inError, true);
    assert.equal(h.run('pick'), 'a');
    assert.equal(h.w('a').retries, 1);
  });

  it('emits E → "" once with the retry reason', () => {
    const h = harness([{ id: 'a', retry: '1s' }, 'b']);
    h.run('error a, advance 1000');
    h.balancer.retryWorker(h.w('a'));
    h.balancer.retryWorker(h.w('a'));
    assert.deepEqual(
      h.events.map((e) => [e.from, e.to, e.reason, e.time]),
      [
        ['', 'E', 'test', T0],
        ['E', '', 'retry time passed', T0 + 1000],
      ],
    );
  });
});

describe('forceRecovery', () => {
  interface Case {
    name: string;
    members: MemberDef[];
    balancer?: BalancerDef;
    events: string;
    expected: string;
    /** Status letters of every worker after the events. */
    after: string[];
    retries: number[];
  }
  const three = (extra: Partial<Record<'a' | 'b' | 'c', string>> = {}): MemberDef[] =>
    (['a', 'b', 'c'] as const).map((id) => (extra[id] ? { id, status: extra[id] } : { id }));

  const cases: Case[] = [
    {
      name: 'on (default): every worker in error → all cleared at once, retries++, the request is served',
      members: three(),
      events: 'error a, error b, error c, pick',
      expected: 'a',
      after: ['', '', ''],
      retries: [1, 1, 1],
    },
    {
      name: 'off: every worker in error → nothing cleared, no worker',
      members: three(),
      balancer: { forcerecovery: false },
      events: 'error a, error b, error c, pick',
      expected: '-',
      after: ['E', 'E', 'E'],
      retries: [0, 0, 0],
    },
    {
      name: "'Off' string is accepted too",
      members: three(),
      balancer: { forcerecovery: 'Off' as unknown as boolean },
      events: 'error a, error b, error c, pick',
      expected: '-',
      after: ['E', 'E', 'E'],
      retries: [0, 0, 0],
    },
    {
      name: 'one worker disabled but not in error → no forced recovery',
      members: three({ c: '+D' }),
      events: 'error a, error b, pick',
      expected: '-',
      after: ['E', 'E', 'D'],
      retries: [0, 0, 0],
    },
    {
      name: 'one worker stopped but not in error → no forced recovery',
      members: three({ c: '+S' }),
      events: 'error a, error b, pick',
      expected: '-',
      after: ['E', 'E', 'S'],
      retries: [0, 0, 0],
    },
    {
      name: 'one worker with a failed health check but not in error → no forced recovery',
      members: three(),
      events: '+C c, error a, error b, pick',
      expected: '-',
      after: ['E', 'E', 'C'],
      retries: [0, 0, 0],
    },
    {
      name: 'all in error, one of them also disabled: E cleared everywhere, D kept',
      members: three({ a: '+D' }),
      events: 'error a, error b, error c, pick',
      expected: 'b',
      after: ['D', '', ''],
      retries: [1, 1, 1],
    },
    {
      name: 'all in error, one also stopped: forced recovery clears its E too (it only looks at E)',
      members: three({ a: '+S' }),
      events: 'error a, error b, error c, pick',
      expected: 'b',
      after: ['S', '', ''],
      retries: [1, 1, 1],
    },
    {
      name: 'all in error, one also health-check failed: C is never cleared',
      members: three(),
      events: '+C a, error a, error b, error c, pick',
      expected: 'b',
      after: ['C', '', ''],
      retries: [1, 1, 1],
    },
    {
      name: "a worker whose retry passed recovers normally: nobody else's error is forced",
      members: [{ id: 'a', retry: '1s' }, 'b', 'c'],
      events: 'error a, error b, error c, advance 1000, pick',
      expected: 'a',
      after: ['', 'E', 'E'],
      retries: [1, 0, 0],
    },
    {
      name: 'one usable worker: nothing to force',
      members: three(),
      events: 'error a, error b, pick*2',
      expected: 'c c',
      after: ['E', 'E', ''],
      retries: [0, 0, 0],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = harness(c.members, c.balancer);
      assert.equal(h.run(c.events), c.expected);
      assert.deepEqual(
        h.balancer.workers.map((w) => statusOf(w.status)),
        c.after,
      );
      assert.deepEqual(
        h.balancer.workers.map((w) => w.retries),
        c.retries,
      );
    });
  }

  it('emits one statechange per worker with the forced-recovery reason', () => {
    const h = harness(plain('a b'));
    h.run('error a, error b');
    h.events.length = 0;
    h.balancer.forceRecovery();
    assert.deepEqual(
      h.events.map((e) => [e.worker, e.from, e.to, e.reason]),
      [
        ['http://a:8080', 'E', '', 'forced recovery: every worker was in error'],
        ['http://b:8080', 'E', '', 'forced recovery: every worker was in error'],
      ],
    );
  });

  it('runs on every selection, including sticky ones', () => {
    const h = harness([{ id: 'a', route: 'node1' }, 'b'], { stickysession: 'JSESSIONID' });
    assert.equal(h.run('error a, error b, route node1'), 'a');
  });
});

describe('statechange events: once per real change', () => {
  const cases: { name: string; members: MemberDef[]; events: string; expected: string[] }[] = [
    { name: '+D twice → one event', members: plain('a b'), events: '+D a, +D a', expected: ['a:→D'] },
    { name: '-D on an enabled worker → none', members: plain('a b'), events: '-D a', expected: [] },
    {
      name: '+D, -D → two events',
      members: plain('a b'),
      events: '+D a, -D a',
      expected: ['a:→D', 'a:D→'],
    },
    {
      name: 'flags combine in table order',
      members: [{ id: 'a', status: '+H' }, 'b'],
      events: '+D a, error a',
      expected: ['a:H→DH', 'a:DH→DEH'],
    },
    { name: 'error twice → one event', members: plain('a b'), events: 'error a, error a', expected: ['a:→E'] },
    { name: 'error on an I worker → none', members: [{ id: 'a', status: '+I' }, 'b'], events: 'error a', expected: [] },
    {
      name: 'selections that find nothing to retry → none',
      members: plain('a b'),
      events: 'pick*4',
      expected: [],
    },
    {
      name: 'a retry inside a selection → one event',
      members: [{ id: 'a', retry: 0 }, 'b'],
      events: 'error a, pick*3',
      expected: ['a:→E', 'a:E→'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = harness(c.members, {});
      h.run(c.events);
      assert.deepEqual(
        h.events.map((e) => `${new URL(e.worker).hostname}:${e.from}→${e.to}`),
        c.expected,
      );
    });
  }
});

describe('waitForChange', () => {
  it('wakes at the earliest retry time of a worker in error', async () => {
    const h = harness([
      { id: 'a', retry: '5s' },
      { id: 'b', retry: '3s' },
    ]);
    h.run('error a, error b');
    let woke = false;
    void h.balancer.waitForChange(T0 + 60_000).done.then(() => (woke = true));
    h.clock.advance(2_999);
    await Promise.resolve();
    assert.equal(woke, false);
    h.clock.advance(1);
    await Promise.resolve();
    assert.equal(woke, true);
    assert.equal(h.clock.pending, 0);
  });

  it('wakes at the deadline when no worker is in error', async () => {
    const h = harness([{ id: 'a', status: '+D' }]);
    let woke = false;
    void h.balancer.waitForChange(T0 + 1_000).done.then(() => (woke = true));
    h.clock.advance(999);
    await Promise.resolve();
    assert.equal(woke, false);
    h.clock.advance(1);
    await Promise.resolve();
    assert.equal(woke, true);
  });

  it('ignores stopped workers in error for the wake time', async () => {
    const h = harness([{ id: 'a', retry: '1s', status: '+S' }]);
    h.run('error a');
    let woke = false;
    void h.balancer.waitForChange(T0 + 10_000).done.then(() => (woke = true));
    h.clock.advance(5_000);
    await Promise.resolve();
    assert.equal(woke, false);
  });

  it('wakes early when a worker becomes usable, and clears its timer', async () => {
    const h = harness([{ id: 'a', status: '+D' }]);
    let woke = false;
    void h.balancer.waitForChange(T0 + 60_000).done.then(() => (woke = true));
    h.balancer.setFlag(h.w('a'), DISABLED, false, 'manager');
    await Promise.resolve();
    assert.equal(woke, true);
    assert.equal(h.clock.pending, 0);
  });

  it('does not wake when a change leaves the worker unusable', async () => {
    const h = harness([{ id: 'a', status: '+D' }]);
    let woke = false;
    void h.balancer.waitForChange(T0 + 60_000).done.then(() => (woke = true));
    h.balancer.setFlag(h.w('a'), IGNORE_ERRORS, true, 'manager');
    await Promise.resolve();
    assert.equal(woke, false);
  });

  it('cancel() ends the wait and clears the timer', async () => {
    const h = harness(plain('a'));
    let woke = false;
    const wait = h.balancer.waitForChange(T0 + 60_000);
    void wait.done.then(() => (woke = true));
    wait.cancel();
    await Promise.resolve();
    assert.equal(woke, true);
    assert.equal(h.clock.pending, 0);
  });
});

function statusOf(status: number): string {
  // Local copy of the letter order so this test does not depend on statusLetters() itself.
  const order: [string, number][] = [
    ['I', 1],
    ['N', 2],
    ['D', 4],
    ['S', 8],
    ['E', 16],
    ['H', 32],
    ['R', 64],
    ['C', 128],
  ];
  return order
    .filter(([, bit]) => (status & bit) !== 0)
    .map(([l]) => l)
    .join('');
}
