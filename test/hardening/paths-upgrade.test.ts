/**
 * Upgrades other than a WebSocket handshake (h2c, an Upgrade on POST) are answered 501 before a
 * worker is chosen or connected: http-proxy would only close them, after the worker connection
 * was opened. They are not forwarded as plain requests, since upgrades skip the app's middleware.
 */
import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { balancer } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, listenProxy, type Proxy } from '../e2e/helpers/proxy.js';
import { RecordingWorker, rawRequest, rawWebSocket } from './paths-support.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

async function setup(t: TestContext): Promise<{ proxy: Proxy; worker: RecordingWorker }> {
  const worker = await new RecordingWorker('w').start();
  t.after(() => worker.stop());
  const lb = balancer({
    clock: new FakeClock(),
    balancers: [{ name: 'app', mount: '/app', members: [{ url: worker.url }] }],
  });
  const app = express();
  app.use(lb);
  const proxy = await listenProxy(lb.attach(http.createServer(app)), lb);
  t.after(() => proxy.close());
  return { proxy, worker };
}

const NOT_WEBSOCKET: [name: string, head: string][] = [
  [
    'h2c',
    'GET /app/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
  ],
  ['TLS/1.2', 'GET /app/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: TLS/1.2\r\n\r\n'],
  [
    'websocket on POST',
    'POST /app/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n',
  ],
  [
    'websocket, then another protocol',
    'GET /app/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket, foo\r\n\r\n',
  ],
];

describe('an Upgrade that is not a WebSocket handshake', () => {
  for (const [name, head] of NOT_WEBSOCKET) {
    test(`${name}: 501 Not Implemented, no worker connection opened`, async (t) => {
      const { proxy, worker } = await setup(t);
      const r = await rawRequest(proxy.base, head);
      assert.equal(r.raw.split('\r\n')[0], 'HTTP/1.1 501 Not Implemented');
      assert.equal(worker.connections, 0);
      await assertIdle(proxy.mw);
      assert.equal(proxy.mw.balancers[0]!.workers[0]!.inError, false);
    });
  }

  test('a WebSocket handshake still reaches the worker', async (t) => {
    const { proxy, worker } = await setup(t);
    // The recording worker answers 200 instead of 101: the client gets that answer.
    const r = await rawWebSocket(proxy.base, '/app/ws');
    assert.equal(r.raw.split('\r\n')[0], 'HTTP/1.1 200 OK');
    assert.deepEqual(worker.paths, ['/ws']);
    await assertIdle(proxy.mw);
  });
});
