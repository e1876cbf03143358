/**
 * A worker going out of service or coming back logs one line per transition through the logger,
 * without the app subscribing to events: real backends stopped (connections refused) and restarted.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { balancer } from '../../lib/index.js';
import { healthOf } from '../../lib/health/monitor.js';
import { FakeClock } from '../support/clock.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { send } from '../e2e/helpers/client.js';
import { RecordingLogger, serve, upstreams } from './helpers.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

describe('worker transitions are logged', () => {
  test('connect refused puts a worker in error (warn); after its retry time it is back (info); one line each', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    const logger = new RecordingLogger();
    const clock = new FakeClock();
    const mw = balancer({
      balancers: [{ name: 'app', mount: '/app', members: [{ url: a!.url, retry: '5s' }, { url: b!.url }] }],
      clock,
      logger,
    });
    const p = await serve(t, (req, res) => mw(req, res), mw);
    const port = a!.port;
    await a!.stop();

    for (let i = 0; i < 4; i++) assert.equal((await send(p.base, '/app/x')).status, 200);
    assert.equal(b!.hits.length, 4, 'failed over to b, and a stays out while in error');
    clock.advance(5000);
    await a!.start(port);
    for (let i = 0; i < 4; i++) assert.equal((await send(p.base, '/app/x')).status, 200);
    assert.ok(a!.hits.length > 0, 'a is used again');

    assert.deepEqual(logger.lines, [
      `warn express-proxy-balancer: balancer://app ${a!.url} is in error: connect failed: ECONNREFUSED`,
      `info express-proxy-balancer: balancer://app ${a!.url} is back in service: retry time passed`,
    ]);
  });

  test('a failing health check (warn) and the check that passes again (info): one line each', async (t) => {
    const [a] = await upstreams(t, 'a');
    const logger = new RecordingLogger();
    const mw = balancer({
      balancers: [{ name: 'app', mount: '/app', members: [{ url: a!.url, hcmethod: 'TCP', hcinterval: '1h' }] }],
      clock: new FakeClock(),
      logger,
    });
    t.after(() => mw.close(0));
    const checker = healthOf(mw.balancers[0]!)!.checker(mw.balancers[0]!.workers[0]!)!;
    const port = a!.port;

    assert.equal((await checker.check())?.ok, true);
    await a!.stop();
    assert.equal((await checker.check())?.ok, false);
    assert.equal((await checker.check())?.ok, false, 'still failing: no new transition');
    await a!.start(port);
    assert.equal((await checker.check())?.ok, true);

    assert.deepEqual(logger.lines, [
      `warn express-proxy-balancer: balancer://app ${a!.url} failed its health check: 1 failed health check: connect failed: ECONNREFUSED`,
      `info express-proxy-balancer: balancer://app ${a!.url} is back in service: 1 passed health check: connected`,
    ]);
  });
});
