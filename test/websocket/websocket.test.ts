import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import express from 'express';
import { balancer, type BalancerMiddleware } from '../../lib/index.js';
import { closedPort } from '../support/upstreams.js';

/** A real ws echo backend that prefixes its name and records the handshake headers. */
async function wsBackend(
  name: string,
): Promise<{ url: string; heads: http.IncomingHttpHeaders[]; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end(name));
  const wss = new WebSocketServer({ server });
  const heads: http.IncomingHttpHeaders[] = [];
  wss.on('connection', (ws, req) => {
    heads.push(req.headers);
    ws.on('message', (m: Buffer) => ws.send(`${name}:${m.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    heads,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function front(
  lb: BalancerMiddleware,
): Promise<{ port: number; server: http.Server; close: () => Promise<void> }> {
  const app = express();
  app.use(lb);
  const server = lb.attach(http.createServer(app));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Opens a client, sends one message, returns the reply (or the handshake failure status). */
function echo(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (m: Buffer) => {
      resolve(m.toString());
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(`status ${res.statusCode}`);
      res.resume();
    });
    ws.on('error', (err) => resolve(`error ${err.message}`));
  });
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not reached');
}

test('websocket upgrades are balanced, counted busy while open, and sticky', async () => {
  const a = await wsBackend('a');
  const b = await wsBackend('b');
  const lb = balancer({
    balancers: [
      {
        name: 'ws',
        mount: '/app',
        stickysession: 'JSESSIONID',
        members: [
          { url: a.url, route: 'r1' },
          { url: b.url, route: 'r2' },
        ],
      },
    ],
  });
  const f = await front(lb);
  try {
    assert.equal(await echo(f.port, '/app/socket'), 'a:hi');
    assert.equal(await echo(f.port, '/app/socket'), 'b:hi');
    for (let i = 0; i < 3; i++) assert.equal(await echo(f.port, '/app/socket', { cookie: 'JSESSIONID=x.r2' }), 'b:hi');
    assert.equal(b.heads.at(-1)?.['x-forwarded-for'], '127.0.0.1');
    assert.equal(b.heads.at(-1)?.host, new URL(b.url).host);
    // busy while open
    const ws = new WebSocket(`ws://127.0.0.1:${f.port}/app/live`, { headers: { cookie: 'JSESSIONID=x.r1' } });
    await new Promise((r) => ws.once('open', r));
    const [wa, wb] = lb.balancers[0]!.workers;
    assert.equal(wa!.busy, 1);
    ws.close();
    await until(() => wa!.busy === 0 && wb!.busy === 0);
  } finally {
    await lb.close(100);
    await f.close();
    await a.close();
    await b.close();
  }
});

test('a refused upgrade fails over to the next worker and marks the refusing one', async () => {
  const dead = await closedPort();
  const b = await wsBackend('b');
  const lb = balancer({
    balancers: [{ name: 'ws', mount: '/app', members: [{ url: `http://127.0.0.1:${dead}` }, { url: b.url }] }],
  });
  const f = await front(lb);
  try {
    assert.equal(await echo(f.port, '/app/s'), 'b:hi');
    const [wa, wb] = lb.balancers[0]!.workers;
    assert.equal(wa!.inError, true);
    await until(() => wa!.busy === 0 && wb!.busy === 0);
  } finally {
    await lb.close(100);
    await f.close();
    await b.close();
  }
});

test('an upgrade fails over within the retry budget, as a request does', async () => {
  const dead = await closedPort();
  const b = await wsBackend('b');
  const lb = balancer({
    balancers: [
      {
        name: 'ws',
        mount: '/app',
        retrybudget: { percent: 0, min: 0 },
        members: [{ url: `http://127.0.0.1:${dead}` }, { url: b.url }],
      },
    ],
  });
  const f = await front(lb);
  try {
    assert.equal(await echo(f.port, '/app/s'), 'status 503', 'no retry left in the budget');
    assert.equal(b.heads.length, 0);
    const [wa, wb] = lb.balancers[0]!.workers;
    assert.equal(wa!.inError, true);
    assert.equal(lb.balancers[0]!.retrying, 0);
    await until(() => wa!.busy === 0 && wb!.busy === 0);
  } finally {
    await lb.close(100);
    await f.close();
    await b.close();
  }
});

test('no usable worker for an upgrade → 503; outside every mount → 404; close() ends open sockets', async () => {
  const dead = await closedPort();
  const b = await wsBackend('b');
  const lb = balancer({
    balancers: [
      { name: 'down', mount: '/down', members: [{ url: `http://127.0.0.1:${dead}` }] },
      { name: 'up', mount: '/up', members: [{ url: b.url }] },
    ],
  });
  const f = await front(lb);
  try {
    assert.equal(await echo(f.port, '/down/s'), 'status 503');
    assert.equal(await echo(f.port, '/elsewhere'), 'status 404');
    const ws = new WebSocket(`ws://127.0.0.1:${f.port}/up/s`);
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise((r) => ws.once('close', r));
    await lb.close(100);
    await closed;
    assert.equal(lb.balancers[1]!.workers[0]!.busy, 0);
  } finally {
    await f.close();
    await b.close();
  }
});

test('a worker that answers the handshake with a non-101 status passes it through', async () => {
  const server = http.createServer((_req, res) => res.end('plain'));
  server.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const lb = balancer({ balancers: [{ name: 'ws', mount: '/app', members: [{ url: `http://127.0.0.1:${port}` }] }] });
  const f = await front(lb);
  try {
    assert.equal(await echo(f.port, '/app/s'), 'status 403');
    const w = lb.balancers[0]!.workers[0]!;
    await until(() => w.busy === 0);
    assert.equal(w.inError, false);
  } finally {
    await lb.close(100);
    await f.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
