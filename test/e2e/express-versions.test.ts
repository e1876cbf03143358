import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import express4 from 'express4';
import { balancer, managerRouter } from '../../lib/index.js';
import type { BalancerConfig, BalancerMiddleware } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { ProcessGuard } from './helpers/guard.js';
import { assertIdle, listenProxy, type Proxy } from './helpers/proxy.js';
import { echo, pattern, send, sha256 } from './helpers/client.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

type Host = 'express 5' | 'express 4' | 'node:http';

/** The same middleware in each host: app.use(mw) in Express 5 and 4, a bare server calling mw(req, res). */
function host(kind: Host, mw: BalancerMiddleware): http.RequestListener {
  if (kind === 'express 5') {
    const app = express();
    app.use(mw);
    return app;
  }
  if (kind === 'express 4') {
    const app = express4();
    app.use(mw);
    return app;
  }
  return (req, res) => mw(req, res);
}

async function start(t: TestContext, listener: http.RequestListener, mw: BalancerMiddleware): Promise<Proxy> {
  const p = await listenProxy(http.createServer(listener), mw);
  t.after(() => p.close());
  return p;
}

async function upstreams(t: TestContext, ...names: string[]): Promise<Upstream[]> {
  const ups = await startUpstreams(...names);
  t.after(() => stopAll(ups));
  return ups;
}

function config(...urls: string[]): BalancerConfig {
  return { balancers: [{ name: 'app', mount: '/app', members: urls.map((url) => ({ url })) }], clock: new FakeClock() };
}

for (const kind of ['express 5', 'express 4', 'node:http'] as const) {
  describe(kind, () => {
    test('forwards GET and POST, fails over a refusing member, passes other paths on', async (t) => {
      const [a, b] = await upstreams(t, 'a', 'b');
      await a!.stop();
      const mw = balancer(config(a!.url, b!.url));
      const p = await start(t, host(kind, mw), mw);

      const get = await send(p.base, '/app/x?q=1');
      assert.equal(get.status, 200);
      assert.equal(echo(get).name, 'b');
      assert.equal(echo(get).url, '/x?q=1');
      assert.deepEqual(
        mw.balancers[0]!.workers.map((w) => w.inError),
        [true, false],
      );

      const body = pattern(10_000, 5);
      const post = await send(p.base, '/app/upload', { method: 'POST', body });
      assert.equal(post.status, 200);
      assert.equal(sha256(b!.hits.at(-1)!.body), sha256(body));

      const other = await send(p.base, '/elsewhere');
      assert.equal(other.status, 404);
      if (kind === 'node:http') assert.equal(other.body.length, 0, 'without next the middleware answers 404 itself');
      else assert.match(other.body.toString(), /Cannot GET \/elsewhere/, 'next() reached the Express final handler');
      assert.equal(b!.hits.length, 2);
      await assertIdle(mw);
    });

    test('req.balancer: a logger before the balancer reads it at finish; an app may assign it', async (t) => {
      const [a] = await upstreams(t, 'a');
      const mw = balancer(config(a!.url));
      const seen: { worker: string | undefined; tried: string[]; own: boolean }[] = [];
      const assigned: unknown[] = [];
      const logger = (req: http.IncomingMessage, res: http.ServerResponse): void => {
        res.once('finish', () => {
          const ctx = req.balancer;
          seen.push({ worker: ctx?.worker, tried: [...(ctx?.tried ?? [])], own: Object.hasOwn(req, 'balancer') });
          (req as { balancer?: unknown }).balancer = 'mine';
          assigned.push(req.balancer);
        });
      };
      const inner = host(kind, mw);
      const p = await start(
        t,
        (req, res) => {
          logger(req, res);
          inner(req, res);
        },
        mw,
      );
      for (let i = 0; i < 2; i++) assert.equal((await send(p.base, '/app/x')).status, 200);
      assert.deepEqual(
        seen.map((s) => [s.worker, s.tried]),
        [
          [a!.url, [a!.url]],
          [a!.url, [a!.url]],
        ],
      );
      // Express gives every req a map of its own: a property added there copies it (see req-context.ts).
      assert.deepEqual(
        seen.map((s) => s.own),
        kind === 'node:http' ? [true, true] : [false, false],
      );
      assert.deepEqual(assigned, ['mine', 'mine']);
      const other = await send(p.base, '/elsewhere');
      assert.equal(other.status, 404);
      assert.equal(seen.length, 3);
      assert.equal(seen[2]!.worker, undefined, 'a request the balancer did not take has no context');
      await assertIdle(mw);
    });

    test('all members down: 503 from the middleware, not the host', async (t) => {
      const [a] = await upstreams(t, 'a');
      await a!.stop();
      const mw = balancer(config(a!.url));
      const p = await start(t, host(kind, mw), mw);
      const r = await send(p.base, '/app/x');
      assert.equal(r.status, 503);
      assert.match(r.body.toString(), /^503 Service Unavailable/);
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      await assertIdle(mw);
    });
  });
}

for (const [kind, make] of [
  ['express 5', express],
  ['express 4', express4],
] as const) {
  describe(`${kind} specifics`, () => {
    test('mounted with app.use(prefix, mw): the balancer sees the path below the prefix', async (t) => {
      const [a] = await upstreams(t, 'a');
      const mw = balancer(config(a!.url));
      const app = make();
      app.use('/api', mw);
      const p = await start(t, app, mw);
      const r = await send(p.base, '/api/app/x');
      assert.equal(r.status, 200);
      assert.equal(a!.hits.at(-1)!.url, '/x');
      assert.equal((await send(p.base, '/app/x')).status, 404, 'outside the Express mount');
      await assertIdle(mw);
    });

    test('req.balancer in a sub-app and on a frozen app.request', async (t) => {
      const [a] = await upstreams(t, 'a');
      const workers: (string | undefined)[] = [];
      const logger = (req: http.IncomingMessage, res: http.ServerResponse, next: () => void): void => {
        res.once('finish', () => workers.push(req.balancer?.worker));
        next();
      };
      const mw = balancer(config(a!.url));
      const parent = make();
      const sub = make();
      sub.use(mw);
      parent.use(logger);
      parent.use('/sub', sub);
      const p = await start(t, parent, mw);
      assert.equal((await send(p.base, '/sub/app/x')).status, 200);

      // An app that froze its request object: the accessor cannot go there, the plain property can.
      const mw2 = balancer(config(a!.url));
      const frozen = make();
      Object.freeze(frozen.request);
      frozen.use(logger);
      frozen.use(mw2);
      const p2 = await start(t, frozen, mw2);
      for (let i = 0; i < 2; i++) assert.equal((await send(p2.base, '/app/x')).status, 200);
      assert.deepEqual(workers, [a!.url, a!.url, a!.url]);
      assert.equal(a!.hits.length, 3);
      await assertIdle(mw);
      await assertIdle(mw2);
    });

    test('a body parser before the balancer: the parsed body is re-serialised, rawBody is forwarded as is', async (t) => {
      const [a] = await upstreams(t, 'a');
      const mw = balancer({ ...config(a!.url), logger: false });
      const app = make();
      app.use('/app/plain', make.json());
      app.use(
        '/app/raw',
        make.json({
          verify: (req, _res, buf) => {
            (req as http.IncomingMessage & { rawBody?: Buffer }).rawBody = buf;
          },
        }),
      );
      app.use(mw);
      const p = await start(t, app, mw);
      const json = '{ "a": 1,   "spaced": true }';
      const headers = { 'content-type': 'application/json' };
      const parsed = await send(p.base, '/app/plain', { method: 'POST', body: json, headers, timeoutMs: 3000 });
      assert.equal(parsed.status, 200);
      assert.equal(a!.hits.at(-1)!.body.toString(), '{"a":1,"spaced":true}', 'JSON.stringify of req.body');
      const kept = await send(p.base, '/app/raw', { method: 'POST', body: json, headers, timeoutMs: 3000 });
      assert.equal(kept.status, 200);
      assert.equal(a!.hits.at(-1)!.body.toString(), json, 'the exact raw bytes, not a re-serialised body');
      await assertIdle(mw);
    });
  });
}

describe('in front of an Express app (docs/performance.md, "Choosing the host")', () => {
  test("the balancer takes its mounts on node:http's own objects; every other request reaches the app", async (t) => {
    const [a] = await upstreams(t, 'a');
    const mw = balancer(config(a!.url));
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('x-app', '1');
      next();
    });
    app.use('/balancer-manager', managerRouter(mw));
    app.get('/hello', (_req, res) => {
      res.send('hi');
    });
    const seen: boolean[] = [];
    const p = await start(
      t,
      (req, res) => {
        res.once('finish', () => seen.push(Object.hasOwn(req, 'balancer')));
        mw(req, res, () => {
          app(req, res);
        });
      },
      mw,
    );

    const proxied = await send(p.base, '/app/x?q=1');
    assert.equal(proxied.status, 200);
    assert.equal(echo(proxied).url, '/x?q=1');
    assert.equal(proxied.headers['x-app'], undefined, "the app's middleware does not run on the balancer's mounts");
    assert.equal(proxied.headers['x-powered-by'], undefined);

    const hello = await send(p.base, '/hello');
    assert.equal(hello.status, 200);
    assert.equal(hello.body.toString(), 'hi');
    assert.equal(hello.headers['x-app'], '1');

    const api = await send(p.base, '/balancer-manager/api/balancers/app/workers');
    assert.equal(api.status, 200);
    const { workers } = JSON.parse(api.body.toString()) as { workers: { elected: number }[] };
    assert.equal(workers[0]!.elected, 1);

    const other = await send(p.base, '/elsewhere');
    assert.equal(other.status, 404);
    assert.match(other.body.toString(), /Cannot GET \/elsewhere/);
    // A plain node:http req: the context is an own property (no Express prototype, no map copy).
    assert.deepEqual(seen, [true, false, false, false]);
    assert.equal(a!.hits.length, 1);
    await assertIdle(mw);
  });
});
