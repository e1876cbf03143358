// Pipelined requests queued for a full worker share their connection's one 'close' listener.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import type net from 'node:net';
import { httpBackend } from '../e2e/helpers/backends.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, eventually, startProxy } from '../e2e/helpers/proxy.js';
import { rawClient } from './body-raw-client.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

const N = 15;

test(`${N} pipelined requests queued for a max: 1 worker: one close listener, no warning, every one answered in order`, async (t) => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));

  // The first request is held until the queue is full; the rest are answered at once.
  let release: (() => void) | undefined;
  const worker = await httpBackend((req: http.IncomingMessage, res: http.ServerResponse) => {
    const answer = (): void => {
      res.end(`r${req.url ?? ''}`);
    };
    if (req.url === '/0') release = answer;
    else answer();
  });
  t.after(() => worker.close());
  const p = await startProxy({
    balancers: [{ name: 'app', mount: '/app', members: [{ url: worker.url, max: 1 }] }],
  });
  t.after(() => p.close());
  const sockets: net.Socket[] = [];
  p.server.on('connection', (s: net.Socket) => sockets.push(s));
  const b = p.mw.balancers[0]!;

  const requests = Array.from({ length: N }, (_, i) => `GET /app/${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
  const client = await rawClient(p.base, requests);
  assert.ok(await eventually(() => release !== undefined && b.queued === N - 1), `queued: ${b.queued}`);
  const [socket] = sockets;
  assert.ok(socket && sockets.length === 1);
  const whileQueued = socket.listenerCount('close');

  release!();
  assert.ok(await eventually(() => (client.text().match(/HTTP\/1\.1 200 OK/g) ?? []).length === N));
  const bodies = client
    .text()
    .split('HTTP/1.1 ')
    .slice(1)
    .map((r) => r.slice(r.indexOf('\r\n\r\n') + 4));
  assert.deepEqual(
    bodies,
    Array.from({ length: N }, (_, i) => `r/${i}`),
  );
  // Once everything is answered: the connection's own listener and the balancer's one. While queued:
  // those and Node's for the response in progress, none per queued request.
  const idle = socket.listenerCount('close');
  assert.equal(idle, 2);
  assert.equal(whileQueued, idle + 1);
  assert.deepEqual(
    warnings.map((w) => w.name),
    [],
  );
  client.socket.end();
  await client.closed;
  await assertIdle(p.mw);
});
