/**
 * Every answer the balancer sends itself carries its code in X-Balancer-Error (curl -i tells the
 * failures apart), WebSocket refusals included; errorHeader: false leaves it out.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import express from 'express';
import { balancer } from '../../lib/index.js';
import type { BalancerConfig } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { closedPort } from '../support/upstreams.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { send } from '../e2e/helpers/client.js';
import { RecordingLogger, serve, upstreams } from './helpers.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

/** Sends an Upgrade request on a raw socket and returns everything the server wrote before closing. */
function upgrade(base: string, path: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname);
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.write(
      `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

async function config(extra: Partial<BalancerConfig> = {}): Promise<BalancerConfig> {
  return {
    balancers: [
      {
        name: 'app',
        mount: '/app',
        forcerecovery: false,
        members: [{ url: `http://127.0.0.1:${await closedPort()}`, retry: '1h' }],
      },
    ],
    clock: new FakeClock(),
    logger: new RecordingLogger(),
    ...extra,
  };
}

describe('X-Balancer-Error', () => {
  test('on by default: the code of each answer the balancer sends itself', async (t) => {
    const [a] = await upstreams(t, 'a');
    const cfg = await config();
    cfg.balancers.push({ name: 'ok', mount: '/ok', members: [{ url: a!.url }] });
    const mw = balancer(cfg);
    const app = express();
    app.use('/app/parsed', express.urlencoded({ extended: true }));
    app.use(mw);
    const p = await serve(t, app, mw);
    mw.attach(p.server);

    const connect = await send(p.base, '/app/x');
    assert.equal(connect.status, 503);
    assert.equal(connect.headers['x-balancer-error'], 'ERR_WORKER_CONNECT');
    const none = await send(p.base, '/app/x');
    assert.equal(none.status, 503);
    assert.equal(none.headers['x-balancer-error'], 'ERR_NO_WORKER');
    assert.deepEqual(Object.keys(none.headers).sort(), [
      'cache-control',
      'connection',
      'content-type',
      'date',
      'retry-after',
      'transfer-encoding',
      'x-balancer-error',
      'x-powered-by',
    ]);
    const consumed = await send(p.base, '/app/parsed', {
      method: 'POST',
      body: 'a[b]=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(consumed.status, 500);
    assert.equal(consumed.headers['x-balancer-error'], 'ERR_BODY_CONSUMED');

    const proxied = await send(p.base, '/ok/x');
    assert.equal(proxied.status, 200);
    assert.equal(proxied.headers['x-balancer-error'], undefined, 'never on a worker response');

    const ws = await upgrade(p.base, '/app/socket');
    assert.equal(
      ws,
      'HTTP/1.1 503 Service Unavailable\r\nX-Balancer-Error: ERR_NO_WORKER\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
  });

  test('errorHeader: false leaves it out, on HTTP and WebSocket answers', async (t) => {
    const mw = balancer(await config({ errorHeader: false }));
    const p = await serve(t, (req, res) => mw(req, res), mw);
    mw.attach(p.server);

    const connect = await send(p.base, '/app/x');
    assert.equal(connect.status, 503);
    assert.equal(connect.headers['x-balancer-error'], undefined);
    assert.equal(connect.headers['content-type'], 'text/plain; charset=utf-8');
    const ws = await upgrade(p.base, '/app/socket');
    assert.equal(ws, 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
});
