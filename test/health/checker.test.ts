/**
 * Active health checks against real loopback backends, timers on a fake clock: healthy, down,
 * wrong status, wrong body, hanging past the check timeout, back again; consecutive counting; C
 * keeps the worker out of routing; a passing check clears E; checks never overlap.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Upstream, closedPort } from '../support/upstreams.js';
import type { MemberOptions } from '../../lib/config/options.js';
import { eventList, rig, until } from './helpers.js';

const ups: Upstream[] = [];
before(async () => {
  for (const n of ['a', 'b']) ups.push(await new Upstream(n).start());
});
after(async () => {
  for (const u of ups) await u.stop();
});
const [A, B] = [() => ups[0]!, () => ups[1]!];

function members(hc: Partial<MemberOptions>): MemberOptions[] {
  return ups.map((u) => ({ url: u.url, hcmethod: 'GET', hcuri: '/health', ...hc }));
}

describe('active checks: state changes', () => {
  it('a backend that goes down gets C after hcfails checks in a row, and is back after hcpasses', async () => {
    const r = rig(members({ hcfails: 2, hcpasses: 2 }));
    try {
      assert.equal(await r.check(1), true);
      assert.equal(r.flags(1), '');
      const port = B().port;
      await B().stop();
      assert.equal(await r.check(1), false);
      assert.equal(r.flags(1), '', 'one failure is not enough with hcfails 2');
      assert.equal(await r.check(1), false);
      assert.equal(r.flags(1), 'C');
      assert.equal(r.picks(4), 'a a a a', 'C keeps b out of scheduling');
      await B().start(port);
      assert.equal(await r.check(1), true);
      assert.equal(r.flags(1), 'C', 'one pass is not enough with hcpasses 2');
      assert.equal(await r.check(1), true);
      assert.equal(r.flags(1), '');
      assert.deepEqual(eventList(r), ['health-failed:b', 'health-passed:b', 'worker-recovered:b']);
      assert.match(r.events[0]!.reason, /2 failed health checks in a row: connect failed: ECONNREFUSED/);
      assert.equal(r.events[0]!.balancer, r.balancer);
      assert.equal(r.events[0]!.time, r.clock.now());
      assert.match(r.picks(4), /b/);
    } finally {
      r.stop();
    }
  });

  it('wrong status fails (Apache default: 2xx and 3xx pass); hcexpect narrows it', async () => {
    const r = rig([
      { url: A().url, hcmethod: 'GET' },
      { url: B().url, hcmethod: 'GET', hcexpect: '200' },
    ]);
    try {
      A().mode = { status: 500 };
      assert.equal(await r.check(0), false);
      assert.equal(r.flags(0), 'C');
      assert.match(r.health.checker(r.w(0))!.lastResult!.reason, /status 500 not expected/);
      A().mode = { status: 302 };
      assert.equal(await r.check(0), true, '302 passes by default');
      B().mode = { status: 302 };
      assert.equal(await r.check(1), false, 'hcexpect 200 refuses 302');
      B().mode = { status: 200 };
      assert.equal(await r.check(1), true);
      assert.equal(r.flags(1), '');
    } finally {
      A().mode = 'ok';
      B().mode = 'ok';
      r.stop();
    }
  });

  it('wrong body fails: hcbody as substring and as RegExp', async () => {
    const r = rig([
      { url: A().url, hcmethod: 'GET', hcbody: 'ready' },
      { url: B().url, hcmethod: 'GET11', hcbody: /^status: (ok|degraded)$/m },
    ]);
    try {
      A().mode = { status: 200, body: 'starting' };
      B().mode = { status: 200, body: 'status: down' };
      assert.equal(await r.check(0), false);
      assert.equal(await r.check(1), false);
      assert.equal(r.flags(0) + r.flags(1), 'CC');
      A().mode = { status: 200, body: 'all ready' };
      B().mode = { status: 200, body: 'x\nstatus: degraded\n' };
      assert.equal(await r.check(0), true);
      assert.equal(await r.check(1), true);
      assert.equal(r.flags(0) + r.flags(1), '');
    } finally {
      A().mode = 'ok';
      B().mode = 'ok';
      r.stop();
    }
  });

  it('a backend hanging past hctimeout fails the check; its socket is closed', async () => {
    const r = rig(members({ hctimeout: 3000 }));
    try {
      A().mode = 'hang';
      const hits = A().hits.length;
      const pending = r.check(0);
      await until(() => A().hits.length > hits);
      r.clock.advance(2999);
      assert.equal(r.health.checker(r.w(0))!.running, true, 'still waiting before the deadline');
      r.clock.advance(1);
      assert.equal(await pending, false);
      assert.equal(r.health.checker(r.w(0))!.lastResult!.reason, 'timeout');
      assert.equal(r.flags(0), 'C');
      A().mode = 'ok';
      assert.equal(await r.check(0), true);
      assert.equal(r.flags(0), '');
    } finally {
      A().mode = 'ok';
      r.stop();
    }
  });

  it('closed or reset connections fail', async () => {
    const r = rig(members({}));
    try {
      A().mode = 'close';
      assert.equal(await r.check(0), false);
      B().mode = 'reset';
      assert.equal(await r.check(1), false);
      assert.equal(r.flags(0) + r.flags(1), 'CC');
    } finally {
      A().mode = 'ok';
      B().mode = 'ok';
      r.stop();
    }
  });
});

describe('active checks: counting and flags', () => {
  it('counts consecutively: a pass between failures restarts the count (Apache would flag here)', async () => {
    const r = rig(members({ hcfails: 3 }));
    try {
      const results: string[] = [];
      for (const mode of [500, 500, 200, 500, 500, 200, 500, 500] as const) {
        A().mode = { status: mode };
        await r.check(0);
        results.push(r.flags(0) || 'ok');
      }
      assert.deepEqual(results, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
      A().mode = { status: 500 };
      await r.check(0);
      assert.equal(r.flags(0), 'C', 'third failure in a row');
    } finally {
      A().mode = 'ok';
      r.stop();
    }
  });

  it('a passing check clears E (a worker put in error by traffic comes back before its retry time)', async () => {
    const r = rig(members({}).map((m) => ({ ...m, retry: '60s' })));
    try {
      r.balancer.markError(r.w(1), 'test: connect failed');
      assert.equal(r.flags(1), 'E');
      assert.equal(r.picks(2), 'a a');
      assert.equal(await r.check(1), true);
      assert.equal(r.flags(1), '');
      assert.deepEqual(eventList(r), ['worker-error:b', 'health-passed:b', 'worker-recovered:b']);
      assert.equal(r.picks(2), 'a b');
    } finally {
      r.stop();
    }
  });

  it('C blocks routing, and forced recovery never clears C (as in Apache)', async () => {
    const r = rig(members({}));
    try {
      A().mode = { status: 503 };
      await r.check(0);
      r.balancer.markError(r.w(1), 'test');
      assert.equal(r.flags(0) + '|' + r.flags(1), 'C|E');
      assert.equal(r.picks(2), '- -');
      assert.equal(r.flags(0), 'C');
    } finally {
      A().mode = 'ok';
      r.stop();
    }
  });

  it('failing checks flag a worker already in E with C too, so a retry cannot send it traffic', async () => {
    const port = await closedPort();
    const r = rig([{ url: A().url }, { url: `http://127.0.0.1:${port}`, hcmethod: 'TCP', retry: 0 }]);
    try {
      r.balancer.markError(r.w(1), 'test');
      assert.equal(await r.check(1), false);
      assert.equal(r.flags(1), 'EC');
      assert.equal(r.picks(3), 'a a a');
    } finally {
      r.stop();
    }
  });

  it('stopped (S) members and members without hcmethod are not checked', async () => {
    const r = rig([{ url: A().url, hcmethod: 'GET', status: '+S' }, { url: B().url }]);
    try {
      assert.equal(r.health.checker(r.w(1)), undefined);
      const hits = A().hits.length;
      assert.equal(await r.check(0), undefined);
      r.clock.advance(120_000);
      await r.health.idle();
      assert.equal(A().hits.length, hits);
    } finally {
      r.stop();
    }
  });
});

describe('active checks: timers', () => {
  it('runs on its own timer with jitter: first within one interval, then interval..interval+10%', async () => {
    const r = rig(members({ hcinterval: 1000 }));
    try {
      const c = r.health.checker(r.w(0))!;
      const start = r.clock.now();
      const times: number[] = [];
      while (times.length < 6) {
        r.clock.advance(10);
        if (c.running) {
          times.push(r.clock.now() - start);
          await c.idle();
        }
      }
      assert.ok(times[0]! <= 1000, `first check at ${times[0]}`);
      for (let i = 1; i < times.length; i++) {
        const gap = times[i]! - times[i - 1]!;
        assert.ok(gap >= 1000 && gap <= 1110, `gap ${gap}`);
      }
      assert.equal(c.checks, 6);
    } finally {
      r.stop();
    }
  });

  it('never overlaps: a hanging check holds the next one back until its deadline', async () => {
    const r = rig(members({ hcinterval: 100, hctimeout: 1000 }));
    try {
      A().mode = 'hang';
      const c = r.health.checker(r.w(0))!;
      const hits = A().hits.length;
      r.clock.advance(100);
      assert.equal(c.running, true);
      await until(() => A().hits.length === hits + 1);
      for (let i = 0; i < 9; i++) r.clock.advance(100);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(A().hits.length, hits + 1, 'no second check while the first is in flight');
      r.clock.advance(100);
      await c.idle();
      assert.equal(c.checks, 1);
      assert.equal(r.flags(0), 'C');
    } finally {
      A().mode = 'ok';
      r.stop();
    }
  });

  it('stop() clears every timer and aborts a check in flight', async () => {
    const r = rig(members({ hcinterval: 100 }));
    A().mode = 'hang';
    try {
      r.clock.advance(100);
      await until(() => A().hits.some((h) => h.url === '/health'));
      r.stop();
      await r.health.idle();
      assert.equal(r.clock.pending, 0);
    } finally {
      A().mode = 'ok';
    }
  });

  it('hcbeforetraffic: the worker starts with C, its first check runs at once and decides', async () => {
    const port = await closedPort();
    const r = rig([
      { url: A().url, hcmethod: 'GET', hcbeforetraffic: true },
      { url: `http://127.0.0.1:${port}`, hcmethod: 'TCP', hcbeforetraffic: true, hcpasses: 2 },
    ]);
    try {
      assert.equal(r.flags(0) + '|' + r.flags(1), 'C|C');
      assert.equal(r.picks(1), '-', 'no traffic before the first check');
      await r.health.ready();
      assert.equal(r.flags(0) + '|' + r.flags(1), '|C');
      assert.deepEqual(eventList(r).sort(), ['health-failed:b', 'health-passed:a', 'worker-recovered:a']);
      assert.equal(r.picks(2), 'a a');
    } finally {
      r.stop();
    }
  });
});
