import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FLAGS } from '../../lib/index.js';
import type { BalancerConfig, BalancerOptions, ErrorInfo, MemberOptions } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { closedPort, startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { ProcessGuard } from './helpers/guard.js';
import { assertIdle, startProxy, totalSockets, until, type Proxy } from './helpers/proxy.js';
import { send } from './helpers/client.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

const DISABLED = FLAGS.find((f) => f.letter === 'D')!.bit;

interface Setup {
  p: Proxy;
  clock: FakeClock;
  errors: ErrorInfo[];
}

/** One balancer "app" at /app with a FakeClock and an onError that records what it saw. */
async function setup(
  t: TestContext,
  members: MemberOptions[],
  opts: Partial<BalancerOptions> = {},
  global: Partial<BalancerConfig> = {},
): Promise<Setup> {
  const clock = new FakeClock();
  const errors: ErrorInfo[] = [];
  const p = await startProxy({
    balancers: [{ name: 'app', mount: '/app', members, ...opts }],
    clock,
    onError: (info, _req, res) => {
      errors.push(info);
      res.writeHead(info.status, { 'content-type': 'text/plain', 'x-error-code': info.error.code });
      res.end(`${info.status} ${info.error.code}\n`);
    },
    ...global,
  });
  t.after(() => p.close());
  return { p, clock, errors };
}

async function upstreams(t: TestContext, ...names: string[]): Promise<Upstream[]> {
  const ups = await startUpstreams(...names);
  t.after(() => stopAll(ups));
  return ups;
}

function inError(p: Proxy): boolean[] {
  return p.mw.balancers[0]!.workers.map((w) => w.inError);
}

describe('connect failures fail over', () => {
  test('a stopped member: the next choice answers, the member gets E and is skipped until its retry time', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    await a!.stop();
    const { p, clock } = await setup(t, [{ url: a!.url }, { url: b!.url }]);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'b');
    assert.deepEqual(inError(p), [true, false]);
    const w0 = p.mw.balancers[0]!.workers[0]!;
    assert.equal(w0.errorTime, clock.now());

    // Back up, but still inside its 60 s retry window: never chosen.
    await a!.start(a!.port);
    for (let i = 0; i < 4; i++) assert.equal((await send(p.base, '/app/x')).headers['x-upstream'], 'b');
    clock.advance(59_999);
    for (let i = 0; i < 2; i++) assert.equal((await send(p.base, '/app/x')).headers['x-upstream'], 'b');
    assert.equal(a!.hits.length, 0);
    assert.deepEqual(inError(p), [true, false]);

    // Retry time passed: the next selection clears E and the worker takes requests again.
    clock.advance(1);
    const who: string[] = [];
    for (let i = 0; i < 4; i++) who.push(String((await send(p.base, '/app/x')).headers['x-upstream']));
    assert.ok(who.includes('a'), `a is used again after its retry time: ${who.join(',')}`);
    assert.deepEqual(inError(p), [false, false]);
    assert.equal(w0.retries, 1);
    await assertIdle(p.mw);
  });

  test('a closed port behaves the same (ECONNREFUSED -> E, request served elsewhere)', async (t) => {
    const [b] = await upstreams(t, 'b');
    const port = await closedPort();
    const { p, errors } = await setup(t, [{ url: `http://127.0.0.1:${port}` }, { url: b!.url }]);
    const r = await send(p.base, '/app/closed');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'b');
    assert.deepEqual(inError(p), [true, false]);
    assert.equal(errors.length, 0);
    assert.equal(b!.hits.length, 1);
    await assertIdle(p.mw);
  });

  test('maxattempts: 0 means no failover (503), and the member is still marked', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    await a!.stop();
    const { p, errors } = await setup(t, [{ url: a!.url }, { url: b!.url }], { maxattempts: 0 });
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 503);
    assert.equal(errors[0]?.error.code, 'ERR_WORKER_CONNECT');
    assert.equal(b!.hits.length, 0);
    assert.deepEqual(inError(p), [true, false]);
    // The next request skips the member in error.
    assert.equal((await send(p.base, '/app/x')).headers['x-upstream'], 'b');
    await assertIdle(p.mw);
  });

  test('maxattempts defaults to members - 1; an explicit bound stops earlier', async (t) => {
    const [b] = await upstreams(t, 'b');
    const dead = [await closedPort(), await closedPort()].map((port) => ({ url: `http://127.0.0.1:${port}` }));
    const all = [...dead, { url: b!.url }];

    const dflt = await setup(t, all);
    const r = await send(dflt.p.base, '/app/x');
    assert.equal(r.status, 200, 'two failed connects, then the third member (default maxattempts 2)');
    assert.equal(r.headers['x-upstream'], 'b');
    assert.deepEqual(inError(dflt.p), [true, true, false]);

    const bounded = await setup(t, all, { maxattempts: 1 });
    const hitsBefore = b!.hits.length;
    const r2 = await send(bounded.p.base, '/app/x');
    assert.equal(r2.status, 503);
    assert.deepEqual(
      bounded.errors[0]?.context?.tried,
      dead.map((d) => d.url),
    );
    assert.deepEqual(inError(bounded.p), [true, true, false]);
    assert.equal(b!.hits.length, hitsBefore, 'the third member was never tried');
    await assertIdle(dflt.p.mw);
    await assertIdle(bounded.p.mw);
  });

  test('all members down: 503 after trying each exactly once', async (t) => {
    const dead = [await closedPort(), await closedPort(), await closedPort()].map((port) => ({
      url: `http://127.0.0.1:${port}`,
    }));
    const { p, errors } = await setup(t, dead);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-error-code'], 'ERR_WORKER_CONNECT');
    assert.equal(errors.length, 1);
    const tried = errors[0]!.context!.tried;
    assert.equal(tried.length, 3);
    assert.deepEqual([...tried].sort(), dead.map((d) => d.url).sort());
    assert.deepEqual(inError(p), [true, true, true]);
    await assertIdle(p.mw);
  });

  test('forcerecovery (default on): when every member is in E, all are tried again at once', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    await a!.stop();
    await b!.stop();
    const { p, clock } = await setup(t, [{ url: a!.url }, { url: b!.url }]);
    assert.equal((await send(p.base, '/app/x')).status, 503);
    assert.deepEqual(inError(p), [true, true]);
    await a!.start(a!.port);
    const start = clock.now();
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 200, 'served without waiting for any retry time');
    assert.equal(r.headers['x-upstream'], 'a');
    assert.equal(clock.now(), start);
    assert.equal(p.mw.balancers[0]!.workers[0]!.inError, false);
    await assertIdle(p.mw);
  });

  test('forcerecovery: false: every member in E means 503 without any attempt', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    await a!.stop();
    await b!.stop();
    const { p, errors } = await setup(t, [{ url: a!.url }, { url: b!.url }], { forcerecovery: false });
    assert.equal((await send(p.base, '/app/x')).status, 503);
    await a!.start(a!.port);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 503);
    const info = errors[1];
    assert.ok(info);
    assert.equal(info.error.code, 'ERR_NO_WORKER');
    assert.deepEqual(info.context?.tried, []);
    assert.equal(a!.hits.length, 0);
    assert.deepEqual(inError(p), [true, true]);
    await assertIdle(p.mw);
  });

  test('a +I member is never marked and a connect failure on it does not fail over (503)', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    await a!.stop();
    const { p, errors } = await setup(t, [{ url: a!.url, status: '+I' }, { url: b!.url }]);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 503);
    const info = errors[0];
    assert.ok(info);
    assert.equal(info.error.code, 'ERR_WORKER_CONNECT');
    assert.deepEqual(info.context?.tried, [a!.url]);
    assert.equal(b!.hits.length, 0);
    assert.deepEqual(inError(p), [false, false]);
    await assertIdle(p.mw);
  });
});

describe('failures after the request was sent never fail over', () => {
  for (const mode of ['reset', 'close'] as const) {
    for (const method of ['GET', 'POST']) {
      test(`${mode} before the response (${method}) -> 502, worker not marked, not replayed`, async (t) => {
        const [a, b] = await upstreams(t, 'a', 'b');
        a!.mode = mode;
        const { p, errors } = await setup(t, [{ url: a!.url }, { url: b!.url }]);
        const r = await send(p.base, '/app/x', { method, ...(method === 'POST' && { body: 'once only' }) });
        assert.equal(r.status, 502);
        assert.equal(errors[0]?.error.code, 'ERR_WORKER_RESPONSE');
        assert.equal(a!.hits.length, 1, 'the request reached a once');
        assert.equal(b!.hits.length, 0, 'and was never replayed to b');
        assert.deepEqual(inError(p), [false, false]);
        await assertIdle(p.mw);
      });
    }
  }

  test('a pooled socket closed without an answer: a POST is not replayed; a GET is retried once on the same worker only', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    const { p } = await setup(t, [{ url: a!.url }], {}, {});
    // Warm one pooled keep-alive socket to a, then make a close connections after reading a request.
    assert.equal((await send(p.base, '/app/warm')).status, 200);
    assert.equal(totalSockets(p.mw), 1);
    a!.mode = 'close';
    const post = await send(p.base, '/app/x', { method: 'POST', body: 'not twice' });
    assert.equal(post.status, 502);
    assert.equal(a!.hits.filter((h) => h.method === 'POST').length, 1, 'a POST that reached a worker is never resent');

    a!.mode = 'ok';
    assert.equal((await send(p.base, '/app/warm')).status, 200);
    a!.mode = 'close';
    const get = await send(p.base, '/app/y');
    assert.equal(get.status, 502);
    const gets = a!.hits.filter((h) => h.url === '/y').length;
    assert.ok(gets >= 1 && gets <= 2, `the stale-socket retry is bounded to one, on the same worker (${gets})`);
    assert.equal(b!.hits.length, 0);
    assert.deepEqual(inError(p), [false]);
    await assertIdle(p.mw);
  });

  test('failonstatus: the client gets the backend 500, the worker is marked, no retry', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    a!.mode = { status: 500, body: 'backend boom' };
    const { p } = await setup(t, [{ url: a!.url }, { url: b!.url }], { failonstatus: [500, 503] });
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'backend boom');
    assert.equal(r.headers['x-upstream'], 'a');
    assert.equal(b!.hits.length, 0);
    assert.deepEqual(inError(p), [true, false]);
    assert.equal((await send(p.base, '/app/x')).headers['x-upstream'], 'b');
    await assertIdle(p.mw);
  });

  test('without failonstatus a backend 500/503 is passed through and does not mark the worker', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    a!.mode = { status: 503, body: 'busy' };
    const { p } = await setup(t, [{ url: a!.url }, { url: b!.url }]);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 503);
    assert.equal(r.body.toString(), 'busy');
    assert.equal(b!.hits.length, 0);
    assert.deepEqual(inError(p), [false, false]);
    await assertIdle(p.mw);
  });
});

describe('balancer timeout: waiting for a usable worker', () => {
  /** a and b up; a fails once (E, retry 1 s) while b serves; then b is disabled by hand. */
  async function allUnusable(
    t: TestContext,
    retry: string,
    timeout: string,
  ): Promise<Setup & { a: Upstream; b: Upstream }> {
    const [a, b] = await upstreams(t, 'a', 'b');
    await a!.stop();
    const s = await setup(t, [{ url: a!.url, retry }, { url: b!.url }], { timeout });
    assert.equal((await send(s.p.base, '/app/x')).headers['x-upstream'], 'b');
    const lb = s.p.mw.balancers[0]!;
    lb.setFlag(lb.workers[1]!, DISABLED, true, 'test');
    assert.deepEqual(inError(s.p), [true, false]);
    return { ...s, a: a!, b: b! };
  }

  test('a member whose retry time passes during the wait serves the request', async (t) => {
    const { p, clock, a } = await allUnusable(t, '1s', '5s');
    await a.start(a.port);
    const pending = send(p.base, '/app/wait');
    assert.ok(await until(() => clock.pending > 0), 'the request waits on the balancer clock');
    clock.advance(1000);
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'a');
    assert.equal(a.hits.length, 1);
    await assertIdle(p.mw);
    assert.equal(clock.pending, 0, 'no timer left behind');
  });

  test('a member enabled by an admin during the wait serves the request at once', async (t) => {
    const { p, clock } = await allUnusable(t, '60s', '5s');
    const pending = send(p.base, '/app/wait');
    assert.ok(await until(() => clock.pending > 0));
    const lb = p.mw.balancers[0]!;
    lb.setFlag(lb.workers[1]!, DISABLED, false, 'admin enable');
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'b');
    await assertIdle(p.mw);
    assert.equal(clock.pending, 0);
  });

  test('nothing recovers: 503 once the timeout has passed, not before', async (t) => {
    const { p, clock, errors, a } = await allUnusable(t, '60s', '2s');
    await a.start(a.port);
    let answered = false;
    const pending = send(p.base, '/app/wait').then((r) => {
      answered = true;
      return r;
    });
    assert.ok(await until(() => clock.pending > 0));
    clock.advance(1999);
    assert.equal(await until(() => answered, 200), false, 'still waiting before the timeout');
    clock.advance(1);
    const r = await pending;
    assert.equal(r.status, 503);
    assert.equal(errors.at(-1)?.error.code, 'ERR_NO_WORKER');
    assert.equal(a.hits.length, 0);
    await assertIdle(p.mw);
    assert.equal(clock.pending, 0);
  });

  test('a client that leaves during the wait ends it (no timer, no busy left)', async (t) => {
    const { p, clock } = await allUnusable(t, '60s', '5s');
    let abort: (() => void) | undefined;
    const pending = send(p.base, '/app/wait', { onRequest: (req) => (abort = () => req.destroy()) });
    assert.ok(await until(() => clock.pending > 0));
    abort!();
    const r = await pending;
    assert.equal(r.status, 0);
    assert.ok(await until(() => clock.pending === 0), 'the wait was cancelled when the client left');
    await assertIdle(p.mw);
  });
});

describe('accounting', () => {
  test('repeated connect failures and resets do not grow the socket pool', async (t) => {
    const [a, b, c] = await upstreams(t, 'a', 'b', 'c');
    await a!.stop();
    c!.mode = 'reset';
    const { p } = await setup(t, [{ url: a!.url, retry: 0 }, { url: b!.url }]);
    const counts: number[] = [];
    for (let i = 0; i < 12; i++) {
      assert.equal((await send(p.base, '/app/x')).status, 200);
      await assertIdle(p.mw);
      counts.push(totalSockets(p.mw));
    }
    assert.ok(Math.max(...counts) <= 2, `sockets stay bounded: ${counts.join(',')}`);
    assert.equal(p.mw.socketCounts().get(a!.url), 0, 'no socket kept to the refusing worker');

    const r = await setup(t, [{ url: c!.url }]);
    const resets: number[] = [];
    for (let i = 0; i < 8; i++) {
      assert.equal((await send(r.p.base, '/app/x')).status, 502);
      await assertIdle(r.p.mw);
      resets.push(totalSockets(r.p.mw));
    }
    assert.deepEqual(
      resets,
      resets.map(() => 0),
      'reset sockets are destroyed, never pooled',
    );
    assert.equal(c!.hits.length, 8);
  });
});
