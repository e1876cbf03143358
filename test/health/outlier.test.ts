/**
 * Passive ejection through the real request path: workers answering 500s are ejected after N
 * failures in a row, come back after the ejection time, stay out longer on repeat (capped), and the
 * max-ejection percentage keeps part of the pool serving. A single slow request never ejects.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { balancer } from '../../lib/index.js';
import type { BalancerMiddleware, OutlierOptions, WorkerEvent } from '../../lib/index.js';
import { FakeClock, seededRandom } from '../support/clock.js';
import { listen, sequence } from '../support/http.js';
import { Upstream } from '../support/upstreams.js';

const ups: Upstream[] = [];
before(async () => {
  for (const n of ['a', 'b', 'c']) ups.push(await new Upstream(n).start());
});
after(async () => {
  for (const u of ups) await u.stop();
});

interface Front {
  base: string;
  mw: BalancerMiddleware;
  clock: FakeClock;
  ejected: WorkerEvent[];
  close(): Promise<void>;
}

async function front(outlier: OutlierOptions, member: Record<string, unknown> = {}, count = 3): Promise<Front> {
  const clock = new FakeClock();
  const mw = balancer({
    clock,
    random: seededRandom(1),
    balancers: [
      { name: 'o', mount: '/app', outlier, members: ups.slice(0, count).map((u) => ({ url: u.url, ...member })) },
    ],
  });
  const ejected: WorkerEvent[] = [];
  mw.balancers[0]!.on('worker-ejected', (e) => ejected.push(e));
  const srv = await listen((req, res) => mw(req, res));
  return {
    base: srv.base,
    mw,
    clock,
    ejected,
    close: async () => {
      await srv.close();
      await mw.close(100);
    },
  };
}

const names = (s: string[]): string => s.map((x) => x.replace(/:500$/, '!')).join(' ');

describe('outlier ejection', () => {
  it('ejects after N failures in a row, returns after base × n, longer on repeat, capped', async () => {
    const f = await front({ consecutiveFailures: 3, baseEjectionTime: '10s', maxEjectionTime: '25s' });
    ups[1]!.mode = { status: 500 };
    try {
      // b's third 500 ejects it; from then on only a and c.
      assert.equal(names(await sequence(f.base, 9)), 'a b! c a b! c a b! c');
      assert.doesNotMatch(names(await sequence(f.base, 3)), /b/);
      const b = f.mw.balancers[0]!.workers[1]!;
      assert.equal(b.inError, true);
      assert.match(
        f.ejected[0]!.reason,
        /3 failures in a row \(last: status 500\): ejected for 10000 ms \(ejection 1\)/,
      );
      f.clock.advance(9999);
      assert.doesNotMatch(names(await sequence(f.base, 4)), /b/);
      f.clock.advance(1);
      // Back after 10 s, still failing: three more 500s, ejected for 2 × 10 s.
      assert.equal(names(await sequence(f.base, 9)).match(/b!/g)?.length, 3);
      assert.match(f.ejected[1]!.reason, /ejected for 20000 ms \(ejection 2\)/);
      f.clock.advance(19_999);
      assert.doesNotMatch(names(await sequence(f.base, 4)), /b/);
      f.clock.advance(1);
      await sequence(f.base, 9);
      assert.match(f.ejected[2]!.reason, /ejected for 25000 ms \(ejection 3\)/, '3 × 10 s capped at 25 s');
      assert.equal(f.ejected.length, 3);
    } finally {
      ups[1]!.mode = 'ok';
      await f.close();
    }
  });

  it('a success in between restarts the count; the ejection count decays while healthy', async () => {
    const f = await front({ consecutiveFailures: 2, baseEjectionTime: '10s', maxEjectionPercent: 100 });
    try {
      ups[0]!.mode = { status: 503 };
      ups[1]!.mode = 'ok';
      await sequence(f.base, 3); // a fails once
      ups[0]!.mode = 'ok';
      await sequence(f.base, 3); // a succeeds: count back to 0
      ups[0]!.mode = { status: 503 };
      await sequence(f.base, 3); // one failure again: not ejected
      assert.equal(f.ejected.length, 0);
      await sequence(f.base, 3);
      assert.equal(f.ejected.length, 1);
      ups[0]!.mode = 'ok';
      f.clock.advance(10_000 + 20_000); // back, then two base times healthy
      await sequence(f.base, 3);
      ups[0]!.mode = { status: 503 };
      await sequence(f.base, 6);
      assert.match(f.ejected[1]!.reason, /ejected for 10000 ms \(ejection 1\)/);
    } finally {
      ups[0]!.mode = 'ok';
      await f.close();
    }
  });

  it('max ejection percent: never ejects below the floor (panic mode keeps the pool serving)', async () => {
    // 3 workers, 34 % → at most one out at a time.
    const f = await front({ consecutiveFailures: 2, maxEjectionPercent: 34 });
    ups[1]!.mode = { status: 500 };
    ups[2]!.mode = { status: 500 };
    try {
      await sequence(f.base, 12);
      const [a, b, c] = f.mw.balancers[0]!.workers;
      assert.equal(f.ejected.length, 1);
      assert.equal(f.ejected[0]!.worker, b);
      assert.equal(a!.isUsable(), true);
      assert.equal(c!.isUsable(), true, 'c fails too, but ejecting it would exceed 34 %');
      assert.match(names(await sequence(f.base, 4)), /c!/);
    } finally {
      ups[1]!.mode = 'ok';
      ups[2]!.mode = 'ok';
      await f.close();
    }
  });

  it('0 % never ejects', async () => {
    const f = await front({ consecutiveFailures: 2, maxEjectionPercent: 0 });
    ups[0]!.mode = { status: 500 };
    try {
      await sequence(f.base, 9);
      assert.equal(f.ejected.length, 0);
    } finally {
      ups[0]!.mode = 'ok';
      await f.close();
    }
  });

  it('a single slow request (response timeout) never ejects; timeouts in a row do', async () => {
    const f = await front({ consecutiveFailures: 2, maxEjectionPercent: 100 }, { timeout: '150ms' }, 1);
    try {
      ups[0]!.mode = { status: 200, delayMs: 400 };
      assert.equal((await sequence(f.base, 1))[0], '504');
      ups[0]!.mode = 'ok';
      await sequence(f.base, 1);
      ups[0]!.mode = { status: 200, delayMs: 400 };
      assert.equal((await sequence(f.base, 1))[0], '504');
      assert.equal(f.ejected.length, 0, 'slow, fast, slow: no ejection');
      assert.equal((await sequence(f.base, 1))[0], '504');
      assert.equal(f.ejected.length, 1);
      assert.match(f.ejected[0]!.reason, /last: response timeout/);
    } finally {
      ups[0]!.mode = 'ok';
      await f.close();
    }
  });
});
