/**
 * app.use('/app', balancer({ mount: '/app' })): Express strips "/app" before the balancer sees the
 * path, so nothing matches. The balancer says so once, naming both paths.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import express4 from 'express4';
import { balancer } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { send } from '../e2e/helpers/client.js';
import { RecordingLogger, serve, upstreams } from './helpers.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

const WARNING =
  'warn express-proxy-balancer: balancer://app has mount "/app" and is also used under "/app" (app.use("/app", …)): ' +
  'Express removes "/app" from the path before the balancer sees it, so its mount does not match; ' +
  'use app.use(balancer(config)) without a path, or a mount relative to "/app"';

for (const [version, make] of [
  ['5', express],
  ['4', express4],
] as const) {
  describe(`Express ${version}`, () => {
    test('mounted under its own mount: Express 404 as before, and one warning naming both paths', async (t) => {
      const [a] = await upstreams(t, 'a');
      const logger = new RecordingLogger();
      const mw = balancer({
        balancers: [{ name: 'app', mount: '/app', members: [{ url: a!.url }] }],
        clock: new FakeClock(),
        logger,
      });
      const app = make();
      app.use('/app', mw);
      const p = await serve(t, app, mw);

      for (const path of ['/app/x', '/app/y?q=1', '/app']) {
        const r = await send(p.base, path);
        assert.equal(r.status, 404, path);
      }
      assert.equal(a!.hits.length, 0);
      assert.deepEqual(logger.lines, [WARNING]);
    });

    test('no warning when the balancer works under a prefix, nor for paths outside every mount', async (t) => {
      const [a] = await upstreams(t, 'a');
      const logger = new RecordingLogger();
      const mw = balancer({
        balancers: [{ name: 'app', mount: '/v1', members: [{ url: a!.url }] }],
        clock: new FakeClock(),
        logger,
      });
      const app = make();
      app.use('/api', mw);
      app.use(mw);
      const p = await serve(t, app, mw);

      assert.equal((await send(p.base, '/api/v1/x')).status, 200);
      assert.equal(a!.hits.at(-1)!.url, '/x');
      assert.equal((await send(p.base, '/api/other')).status, 404);
      assert.equal((await send(p.base, '/other')).status, 404);
      // Matched at the top-level app.use(mw) after missing under "/api": a mount reachable both ways is fine.
      assert.equal((await send(p.base, '/v1/y')).status, 200);
      assert.deepEqual(logger.lines, []);
    });
  });
}
