// Start-up waits for the store's admin state at most storeTimeout: a store that never answers must not
// hold traffic or close() for ever.
import { after, afterEach, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { BalancerConfig, PersistedBalancer, StateStore } from '../../lib/index.js';
import { BalancerError, ConfigError } from '../../lib/index.js';
import { DISABLED } from '../../lib/model/status.js';
import { FakeClock } from '../support/clock.js';
import { request, type Reply } from '../support/http.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { captureWarnings } from '../support/warnings.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, eventually, startProxy, type Proxy } from '../e2e/helpers/proxy.js';
import { balancer } from '../../lib/index.js';
import { validateConfig } from '../../lib/config/validate.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

/** A store whose load() settles only when the test says so (or never). */
class HeldStore implements StateStore {
  loads = 0;
  #settle: ((s: PersistedBalancer | undefined) => void) | undefined;

  load(): Promise<PersistedBalancer | undefined> {
    this.loads++;
    return new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  save(): Promise<void> {
    return Promise.resolve();
  }

  answer(state: PersistedBalancer | undefined): void {
    this.#settle?.(state);
  }
}

interface Setup {
  p: Proxy;
  up: Upstream;
  clock: FakeClock;
  store: HeldStore;
  codes: string[];
  warnings: Error[];
  /** Requests the front server has received. */
  arrived(): number;
}

async function setup(t: TestContext, extra: Partial<BalancerConfig> = {}): Promise<Setup> {
  const [up] = await startUpstreams('a');
  t.after(() => stopAll([up!]));
  const clock = new FakeClock();
  const store = new HeldStore();
  const codes: string[] = [];
  const warnings = captureWarnings(t, { name: 'ExpressProxyBalancerWarning', code: 'ERR_STORE_TIMEOUT' });
  const p = await startProxy({
    clock,
    store,
    balancers: [{ name: 'app', mount: '/app', members: [{ url: up!.url }] }],
    onError: (info, _req, res) => {
      codes.push(info.error.code);
      res.writeHead(info.status, { 'content-type': 'text/plain' });
      res.end(info.error.code);
    },
    ...extra,
  });
  t.after(() => p.close());
  let arrived = 0;
  p.server.on('request', () => arrived++);
  return { p, up: up!, clock, store, codes, warnings, arrived: () => arrived };
}

/** Sends a request and waits until the front server has it (it then waits for the store). */
async function sendWaiting(s: Setup, path = '/app/x'): Promise<{ reply: Promise<Reply> }> {
  const before = s.arrived();
  const reply = request(s.p.base, path);
  assert.ok(await eventually(() => s.arrived() === before + 1), 'the request arrived');
  // Wrapped: an async function returning the promise itself would wait for the reply.
  return { reply };
}

function describeWarning(w: Error): [string, unknown, string] {
  return [w.name, (w as Error & { code?: unknown }).code, w.message];
}

/** Lets pending I/O and promise callbacks run (no time passes on the fake clock). */
async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

const disabledState = (url: string): PersistedBalancer => ({
  version: 1,
  workers: [{ name: url, status: 'D' }],
  added: [],
});

describe('a store whose load() never settles', () => {
  test('after storeTimeout the balancer serves from its configuration and warns once', async (t) => {
    const s = await setup(t, { storeTimeout: '5s' });
    const { reply } = await sendWaiting(s);
    s.clock.advance(4999);
    await turns();
    assert.equal(s.up.hits.length, 0, 'still waiting for the store 1 ms before the timeout');
    assert.deepEqual(s.warnings, []);
    s.clock.advance(1);
    const r = await reply;
    assert.equal(r.status, 200);
    assert.equal(r.from, 'a');
    await s.p.mw.ready;
    assert.deepEqual(s.warnings.map(describeWarning), [
      [
        'ExpressProxyBalancerWarning',
        'ERR_STORE_TIMEOUT',
        'the store did not load the stored admin state within storeTimeout (5000 ms): the balancers run from their configuration, without stored manager edits',
      ],
    ]);
    assert.equal((await request(s.p.base, '/app/y')).status, 200);
    assert.equal(s.clock.pending, 0, 'no start-up timer left');
    await assertIdle(s.p.mw);
  });

  test('the default storeTimeout is 10 s', async (t) => {
    const s = await setup(t);
    const { reply } = await sendWaiting(s);
    s.clock.advance(9999);
    await turns();
    assert.equal(s.up.hits.length, 0);
    s.clock.advance(1);
    assert.equal((await reply).status, 200);
    assert.deepEqual(
      s.warnings.map((w) => w.message),
      [
        'the store did not load the stored admin state within storeTimeout (10000 ms): the balancers run from their configuration, without stored manager edits',
      ],
    );
  });

  test('storeStrict: ready rejects with ERR_STORE_TIMEOUT and requests get 503', async (t) => {
    const s = await setup(t, { storeTimeout: 1000, storeStrict: true });
    const { reply } = await sendWaiting(s);
    s.clock.advance(1000);
    await assert.rejects(s.p.mw.ready, (err: unknown) => {
      assert.ok(BalancerError.is(err));
      assert.equal(err.code, 'ERR_STORE_TIMEOUT');
      assert.equal(err.status, 503);
      assert.equal(
        err.message,
        'the store did not load the stored admin state within storeTimeout (1000 ms); storeStrict is on',
      );
      return true;
    });
    assert.equal((await reply).status, 503, 'Express answers the error passed to next()');
    assert.equal((await request(s.p.base, '/app/y')).status, 503);
    assert.equal(s.up.hits.length, 0);
    assert.deepEqual(s.warnings, []);
  });

  test('close() answers the waiting requests (503 ERR_CLOSED) and leaves no timer', async (t) => {
    const s = await setup(t);
    const { reply } = await sendWaiting(s);
    await s.p.mw.close(0);
    const r = await reply;
    assert.equal(r.status, 503);
    assert.equal(r.body, 'ERR_CLOSED');
    assert.deepEqual(s.codes, ['ERR_CLOSED']);
    assert.equal(s.clock.pending, 0);
    assert.equal(s.up.hits.length, 0);
    await s.p.mw.ready;
    assert.deepEqual(s.warnings, []);
  });
});

describe('a slow store', () => {
  test('state loaded in time is applied', async (t) => {
    const s = await setup(t, { storeTimeout: '5s' });
    const { reply } = await sendWaiting(s);
    s.clock.advance(4999);
    s.store.answer(disabledState(s.up.url));
    await s.p.mw.ready;
    assert.ok(s.p.mw.balancers[0]!.workers[0]!.has(DISABLED));
    assert.equal((await reply).status, 503);
    assert.deepEqual(s.codes, ['ERR_NO_WORKER']);
    assert.equal(s.clock.pending, 0);
  });

  test('state arriving after storeTimeout is not applied', async (t) => {
    const s = await setup(t, { storeTimeout: '5s' });
    s.clock.advance(5000);
    await s.p.mw.ready;
    s.store.answer(disabledState(s.up.url));
    await turns();
    assert.equal(s.store.loads, 1);
    assert.equal(s.p.mw.balancers[0]!.workers[0]!.has(DISABLED), false);
    assert.equal((await request(s.p.base, '/app/x')).status, 200);
    assert.deepEqual(
      s.warnings.map(describeWarning).map(([, code]) => code),
      ['ERR_STORE_TIMEOUT'],
    );
  });
});

describe('storeTimeout and storeStrict are checked', () => {
  const base = { balancers: [{ name: 'a', mount: '/a', members: [{ url: 'http://127.0.0.1:1' }] }] };
  const cases: [Partial<BalancerConfig>, string][] = [
    [{ storeTimeout: 0 }, 'storeTimeout: 0 is not in 1..3600000 ms'],
    [
      { storeTimeout: '10' },
      'storeTimeout: "10" is not a duration: use milliseconds (60000) or a unit ("60s", "500ms")',
    ],
    [{ storeTimeout: '2h' }, 'storeTimeout: "2h" is not in 1..3600000 ms'],
    [{ storeStrict: 'yes' as unknown as boolean }, 'storeStrict: "yes" is not a boolean (true/false or "On"/"Off")'],
  ];
  for (const [extra, message] of cases) {
    test(message, () => {
      assert.throws(
        () => balancer({ ...base, ...extra }),
        (err: unknown) => err instanceof ConfigError && err.message === message,
      );
    });
  }

  test('both accept their documented forms', () => {
    const { global } = validateConfig({ ...base, storeTimeout: '1.5s', storeStrict: 'On' as unknown as boolean });
    assert.deepEqual([global.storeTimeoutMs, global.storeStrict], [1500, true]);
    const defaults = validateConfig(base).global;
    assert.deepEqual([defaults.storeTimeoutMs, defaults.storeStrict], [10_000, false]);
  });
});
