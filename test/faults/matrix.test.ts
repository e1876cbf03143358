import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import express from 'express';
import { balancer, type BalancerMiddleware, type MemberOptions } from '../../lib/index.js';
import { RawServer, behaviours, type RawBehaviour } from '../support/raw-server.js';
import { Upstream, closedPort } from '../support/upstreams.js';
import { listen } from '../support/http.js';

type ClientResult = { status: number; body: string } | { error: string; status?: number; partial?: string };

function get(base: string, path: string, timeoutMs = 5000): Promise<ClientResult> {
  return new Promise((resolve) => {
    const req = http.get(`${base}${path}`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ error: e.message, status: res.statusCode, partial: body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

interface Row {
  fault: string;
  behaviour?: RawBehaviour;
  refused?: boolean;
  member?: Partial<MemberOptions>;
  balancer?: Record<string, unknown>;
  /** The client's view: a status, or 'truncated' (a response that ended early). */
  expect: number | 'truncated';
  /** Is the faulty worker put in error state? */
  marked: boolean;
}

const rows: Row[] = [
  { fault: 'connection refused (single worker)', refused: true, expect: 503, marked: true },
  { fault: 'reset before any response', behaviour: behaviours.resetBeforeResponse(), expect: 502, marked: false },
  { fault: 'close before the status line', behaviour: behaviours.closeBeforeStatus(), expect: 502, marked: false },
  {
    fault: 'response timeout (headers never come)',
    behaviour: behaviours.hang(),
    member: { timeout: 150 },
    expect: 504,
    marked: false,
  },
  {
    fault: 'response timeout with failontimeout',
    behaviour: behaviours.hang(),
    member: { timeout: 150 },
    balancer: { failontimeout: true },
    expect: 504,
    marked: true,
  },
  {
    fault: 'slow headers (stall mid-head)',
    behaviour: behaviours.slowHeaders(),
    member: { timeout: 150 },
    expect: 504,
    marked: false,
  },
  { fault: 'death mid-body (content-length)', behaviour: behaviours.dieMidBody(), expect: 'truncated', marked: false },
  { fault: 'death mid-body (chunked)', behaviour: behaviours.dieMidChunked(), expect: 'truncated', marked: false },
  { fault: 'garbage instead of HTTP', behaviour: behaviours.garbage(), expect: 502, marked: false },
  { fault: 'oversized response headers', behaviour: behaviours.hugeHeaders(), expect: 502, marked: false },
  { fault: 'backend 500 passes through', behaviour: behaviours.status(500), expect: 500, marked: false },
  {
    fault: 'backend 503 with failonstatus',
    behaviour: behaviours.status(503),
    balancer: { failonstatus: [503] },
    expect: 503,
    marked: true,
  },
];

async function settle(lb: BalancerMiddleware): Promise<void> {
  for (let i = 0; i < 200 && lb.balancers.some((b) => b.busy > 0); i++) await new Promise((r) => setTimeout(r, 5));
}

for (const row of rows) {
  test(`fault matrix: ${row.fault}`, async () => {
    const raw = row.behaviour ? await new RawServer(row.behaviour).start() : undefined;
    const url = raw ? raw.url : `http://127.0.0.1:${await closedPort()}`;
    const lb = balancer({
      balancers: [{ name: 'f', mount: '/f', ...row.balancer, members: [{ url, ...row.member }] }],
    });
    const app = express();
    app.use(lb);
    const srv = await listen(app);
    try {
      for (let round = 0; round < 3; round++) {
        const w = lb.balancers[0]!.workers[0]!;
        w.status &= ~16; // clear E between rounds so every round reaches the worker
        const r = await get(srv.base, '/f/x');
        if (row.expect === 'truncated') {
          assert.ok('error' in r, `expected a cut response, got ${JSON.stringify(r).slice(0, 120)}`);
          assert.equal(r.status, 200);
          assert.equal(r.partial, '0123456789', 'the bytes the worker sent, nothing spliced after them');
        } else {
          assert.ok('status' in r && !('error' in r), `expected ${row.expect}, got ${JSON.stringify(r).slice(0, 120)}`);
          assert.equal(r.status, row.expect);
        }
        await settle(lb);
        assert.equal(w.busy, 0, 'busy back to 0');
        assert.equal(w.inError, row.marked, 'worker error state');
      }
      const sockets = lb.socketCounts().get(lb.balancers[0]!.workers[0]!.name) ?? 0;
      assert.ok(sockets <= 1, `at most one pooled socket left, found ${sockets}`);
    } finally {
      await lb.close(100);
      await srv.close();
      await raw?.stop();
    }
  });
}

test('fault matrix: all workers down → 503 after trying each once, with Retry-After', async () => {
  const ports = [await closedPort(), await closedPort(), await closedPort()];
  const lb = balancer({
    balancers: [
      { name: 'f', mount: '/f', members: ports.map((p) => ({ url: `http://127.0.0.1:${p}`, retry: '30s' })) },
    ],
  });
  const srv = await listen((req, res) => lb(req, res));
  try {
    const r = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${srv.base}/f/x`, { agent: false }, resolve),
    );
    r.resume();
    assert.equal(r.statusCode, 503);
    assert.equal(r.headers['retry-after'], undefined, 'forced recovery made them retryable: no wait to announce');
    assert.ok(lb.balancers[0]!.workers.every((w) => w.inError && w.busy === 0 && w.elected === 1));
  } finally {
    await lb.close(100);
    await srv.close();
  }
});

test('fault matrix: client aborts before and while the worker answers', async () => {
  const up = await new Upstream('a').start();
  up.mode = { status: 200, delayMs: 300 };
  const lb = balancer({ balancers: [{ name: 'f', mount: '/f', members: [{ url: up.url }] }] });
  const srv = await listen((req, res) => lb(req, res));
  try {
    // Before: the client sends headers and a partial body, then goes away.
    const s1 = net.connect(Number(new URL(srv.base).port), '127.0.0.1');
    s1.write('POST /f/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 50));
    s1.destroy();
    // While: the worker is slow, the client leaves after 50 ms.
    const s2 = net.connect(Number(new URL(srv.base).port), '127.0.0.1');
    s2.write('GET /f/y HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    s2.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await settle(lb);
    const w = lb.balancers[0]!.workers[0]!;
    assert.equal(w.busy, 0);
    assert.equal(w.inError, false, 'a client abort is never the worker’s fault');
    assert.equal(up.hits.filter((h) => h.url === '/x').length, 0, 'a body that never completed was not sent');
    const leftovers = lb.socketCounts().get(w.name) ?? 0;
    assert.ok(leftovers <= 1, `upstream request destroyed with the client, ${leftovers} socket(s) left`);
  } finally {
    await lb.close(100);
    await srv.close();
    await up.stop();
  }
});

test('fault matrix: a client trickling its body gets 408 and the worker never sees it', async () => {
  const up = await new Upstream('a').start();
  const lb = balancer({ bodyTimeout: 150, balancers: [{ name: 'f', mount: '/f', members: [{ url: up.url }] }] });
  const srv = await listen((req, res) => lb(req, res));
  try {
    const s = net.connect(Number(new URL(srv.base).port), '127.0.0.1');
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.write('POST /f/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nfirst bytes');
    await new Promise((r) => s.once('close', r));
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /connection: close/i);
    assert.equal(up.hits.length, 0);
    assert.equal(lb.balancers[0]!.workers[0]!.busy, 0);
  } finally {
    await lb.close(100);
    await srv.close();
    await up.stop();
  }
});

test('fault matrix: oversized request headers are refused by Node with 431 before the balancer', async () => {
  const up = await new Upstream('a').start();
  const lb = balancer({ balancers: [{ name: 'f', mount: '/f', members: [{ url: up.url }] }] });
  const srv = await listen((req, res) => lb(req, res));
  try {
    const s = net.connect(Number(new URL(srv.base).port), '127.0.0.1');
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.write(`GET /f/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`);
    await new Promise((r) => s.once('close', r));
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.equal(up.hits.length, 0);
  } finally {
    await lb.close(100);
    await srv.close();
    await up.stop();
  }
});
