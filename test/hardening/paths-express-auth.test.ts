/**
 * Path confinement behind Express auth: with app.use('/private', requireAdmin) before app.use(lb),
 * Express matches the raw path, so a request whose raw path names "/public" (or no mount) must
 * never reach the "/private" balancer once its dot segments are resolved. Real Express 4 and 5,
 * real sockets, raw request lines (Node's client would resolve the dot segments itself).
 */
import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import express4 from 'express4';
import { balancer, type BalancerMiddleware } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, listenProxy, type Proxy } from '../e2e/helpers/proxy.js';
import { RecordingWorker, rawGet, rawWebSocket } from './paths-support.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

/** Every way of spelling "/public/../private/data" (or reaching /private from no mount) we know of. */
const ESCAPES = [
  '/public/../private/data',
  '/public/%2e%2e/private/data',
  '/public/%2E%2E/private/data',
  '/public/.%2e/private/data',
  '/public/%2e./private/data',
  '/public/..;/private/data',
  '/public/..;x=1/private/data',
  '/public/./../private/data',
  '/public/a/../../private/data',
  '/public//../../private/data',
  '/public;p/../private/data',
  '/public/../private/data?q=1',
  '/x/../private/data',
  '/x/%2e%2e/private/data',
  '/x/..;/private/data',
  '/../private/data',
  '/./private/data',
  '/%2e/private/data',
];

interface Setup {
  /** The code of each request error, in order (the app's onError sees them). */
  codes: string[];
  proxy: Proxy;
  pub: RecordingWorker;
  priv: RecordingWorker;
}

async function setup(t: TestContext, version: 4 | 5): Promise<Setup> {
  const pub = await new RecordingWorker('pub').start();
  const priv = await new RecordingWorker('priv').start();
  t.after(async () => {
    await pub.stop();
    await priv.stop();
  });
  const codes: string[] = [];
  const lb: BalancerMiddleware = balancer({
    clock: new FakeClock(),
    onError: ({ error, status }, _req, res) => {
      codes.push(error.code);
      res.writeHead(status).end();
    },
    balancers: [
      { name: 'public', mount: '/public', members: [{ url: `${pub.url}/pubbase` }] },
      { name: 'private', mount: '/private', members: [{ url: `${priv.url}/privbase` }] },
    ],
  });
  const app = version === 4 ? express4() : express();
  app.use('/private', (req, res, next) => {
    if (req.headers['x-admin'] === 'yes') next();
    else res.status(403).end('admins only');
  });
  app.use(lb);
  const server = http.createServer(app);
  lb.attach(server);
  const proxy = await listenProxy(server, lb);
  t.after(() => proxy.close());
  return { codes, proxy, pub, priv };
}

for (const version of [5, 4] as const) {
  describe(`Express ${version}: app.use('/private', requireAdmin); app.use(lb)`, () => {
    test('the auth guards the private balancer on its own path; dot segments inside a mount still work', async (t) => {
      const { proxy, pub, priv } = await setup(t, version);
      assert.equal((await rawGet(proxy.base, '/private/data')).status, 403);
      const admin = await rawGet(proxy.base, '/private/data', 'X-Admin: yes\r\n');
      assert.equal(admin.status, 200);
      assert.equal(admin.from, 'priv');
      const inside = await rawGet(proxy.base, '/public/a/../b/./c');
      assert.equal(inside.status, 200);
      assert.equal(inside.from, 'pub');
      assert.deepEqual(pub.paths, ['/pubbase/b/c']);
      assert.deepEqual(priv.paths, ['/privbase/data']);
      await assertIdle(proxy.mw);
    });

    test('a raw path naming /public or no mount never reaches the private worker: 400 ERR_BAD_PATH', async (t) => {
      const { codes, proxy, pub, priv } = await setup(t, version);
      const answers: string[] = [];
      for (const target of ESCAPES) {
        const r = await rawGet(proxy.base, target);
        answers.push(`${target} ${r.status}`);
      }
      assert.deepEqual(
        answers,
        ESCAPES.map((target) => `${target} 400`),
      );
      assert.deepEqual(
        codes,
        ESCAPES.map(() => 'ERR_BAD_PATH'),
      );
      assert.deepEqual(priv.seen, [], 'the private worker was reached');
      assert.deepEqual(pub.seen, [], 'the public worker was reached');
      await assertIdle(proxy.mw);
    });

    test('a WebSocket handshake whose raw path names /public never reaches the private worker', async (t) => {
      const { proxy, pub, priv } = await setup(t, version);
      const answers: string[] = [];
      for (const target of ESCAPES) {
        const r = await rawWebSocket(proxy.base, target);
        answers.push(`${target} ${r.raw.split('\r\n')[0]}`);
      }
      assert.deepEqual(
        answers,
        ESCAPES.map((target) => `${target} HTTP/1.1 400 Bad Request`),
      );
      assert.deepEqual(priv.connections, 0, 'a connection was opened to the private worker');
      assert.deepEqual(pub.connections, 0, 'a connection was opened to the public worker');
      // A handshake inside its mount still reaches its worker, with the dot segment resolved.
      await rawWebSocket(proxy.base, '/public/a/../ws');
      assert.deepEqual(pub.paths, ['/pubbase/ws']);
      await assertIdle(proxy.mw);
    });
  });
}
