import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import express from 'express';
import { balancer, type AttemptEvent, type BalancerConfig, type ErrorInfo } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import type { RawServer } from '../support/raw-server.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, listenProxy, type Proxy } from '../e2e/helpers/proxy.js';
import { caseWorker, get, onOneConnection, proxyFor, rawWorker, type Seen } from './response-support.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

interface Watched {
  p: Proxy;
  errors: ErrorInfo[];
  attempts: string[];
}

/** The proxy with an onError that records each error and answers its status with the code as body. */
async function watched(t: TestContext, worker: RawServer, member: Record<string, unknown> = {}): Promise<Watched> {
  const errors: ErrorInfo[] = [];
  const p = await proxyFor(t, [{ url: worker.url, ...member }], {
    onError: (info, _req, res) => {
      errors.push(info);
      res.writeHead(info.status, { 'content-type': 'text/plain' });
      res.end(info.error.code);
    },
  });
  const attempts: string[] = [];
  p.mw.balancers[0]!.on('attempt', (e: AttemptEvent) => attempts.push(e.outcome.kind));
  return { p, errors, attempts };
}

function inError(p: Proxy): boolean[] {
  return p.mw.balancers[0]!.workers.map((w) => w.inError);
}

const brief = (s: Seen): [number, string, string | undefined] => [s.status, s.body, s.error];

describe('a 101 answer to a plain request', () => {
  test('101 with Upgrade headers: 502, the slot released, counted as a failed attempt', async (t) => {
    const worker = await caseWorker(t, [
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    ]);
    const { p, errors, attempts } = await watched(t, worker);
    assert.deepEqual(brief(await get(p.base, '/app/case/0')), [502, 'ERR_WORKER_RESPONSE', undefined]);
    assert.match(errors[0]!.error.message, /switched protocols \(101\)/);
    assert.deepEqual(attempts, ['failed']);
    assert.deepEqual(inError(p), [false]);
    await assertIdle(p.mw);
  });

  test('101 without Upgrade headers (Node hands it over as a response): 502, never a 101 to the client', async (t) => {
    const worker = await caseWorker(t, ['HTTP/1.1 101 Switching Protocols\r\nContent-Length: 2\r\n\r\nok']);
    const { p, errors, attempts } = await watched(t, worker);
    assert.deepEqual(brief(await get(p.base, '/app/case/0')), [502, 'ERR_WORKER_RESPONSE', undefined]);
    assert.match(errors[0]!.error.message, /a 101 \(Switching Protocols\) answer to a request without Upgrade/);
    assert.deepEqual(attempts, ['failed']);
    await assertIdle(p.mw);
  });
});

describe('a worker error after the response head, before any body byte', () => {
  const cases: { name: string; response: string; status: number; body: string }[] = [
    {
      name: 'a bad first chunk: 502',
      response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n',
      status: 502,
      body: 'ERR_WORKER_RESPONSE',
    },
    {
      name: 'the worker closes after the head, before any of its 10 body bytes: 502',
      response: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n',
      status: 502,
      body: 'ERR_WORKER_RESPONSE',
    },
    {
      name: 'a 204 with a body: the 204 (the bytes after it only spoil the worker connection)',
      response: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello',
      status: 204,
      body: '',
    },
    {
      name: 'a 304 with a chunked body: the 304',
      response: 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      status: 304,
      body: '',
    },
  ];
  for (const c of cases) {
    test(c.name, async (t) => {
      const worker = await caseWorker(t, [c.response]);
      const { p } = await watched(t, worker);
      assert.deepEqual(brief(await get(p.base, '/app/case/0')), [c.status, c.body, undefined]);
      assert.deepEqual(inError(p), [false]);
      await assertIdle(p.mw);
    });
  }

  test('body bytes and then a bad chunk in one packet: the bytes reach the client, then the cut', async (t) => {
    const worker = await caseWorker(t, ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n']);
    const { p, attempts } = await watched(t, worker);
    const seen = await get(p.base, '/app/case/0');
    assert.deepEqual([seen.status, seen.body, seen.complete], [200, 'hello', false]);
    assert.deepEqual(attempts, ['truncated']);
    await assertIdle(p.mw);
  });

  test('no body byte within the response timeout after the head: 504', async (t) => {
    const worker = await rawWorker(t, (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n'));
    const { p, attempts } = await watched(t, worker, { timeout: 100 });
    assert.deepEqual(brief(await get(p.base, '/app/stall')), [504, 'ERR_WORKER_TIMEOUT', undefined]);
    assert.deepEqual(attempts, ['timeout']);
    await assertIdle(p.mw);
  });
});

/**
 * Answers `GET /ok` (closing its connection, so the next request gets a fresh worker socket) and
 * closes the connection without answering `GET /drop`.
 */
async function dropper(t: TestContext): Promise<RawServer> {
  return rawWorker(t, (s, head) => {
    if (head.startsWith('GET /ok ')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    else s.end();
  });
}

/** GETs `paths` one after another on one kept-alive client connection; `reused` says which went on a reused one. */
async function keptAlive(
  base: string,
  paths: string[],
): Promise<{ status: number; error?: string; reused: boolean }[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: { status: number; error?: string; reused: boolean }[] = [];
  try {
    for (const path of paths) {
      out.push(
        await new Promise((resolve) => {
          const req = http.get(`${base}${path}`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          });
          req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
          req.on('error', (e: NodeJS.ErrnoException) =>
            resolve({ status: 0, error: e.code ?? e.message, reused: req.reusedSocket }),
          );
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return out;
}

describe('a worker that closes without answering', () => {
  test('on the first request of a client connection: 502, the worker stays in service', async (t) => {
    const { p, errors } = await watched(t, await dropper(t));
    assert.deepEqual(brief(await get(p.base, '/app/drop')), [502, 'ERR_WORKER_RESPONSE', undefined]);
    assert.equal((errors[0]!.error.cause as NodeJS.ErrnoException).code, 'ECONNRESET');
    assert.deepEqual(inError(p), [false]);
    await assertIdle(p.mw);
  });

  test('on the first request, after the 100 Continue Node sent for it: still a first request, 502', async (t) => {
    const { p, errors } = await watched(t, await dropper(t));
    const bytes = await onOneConnection(p.base, [
      'POST /app/drop HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody',
    ]);
    assert.ok(bytes.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 502 Bad Gateway\r\n'), JSON.stringify(bytes));
    assert.ok(bytes.endsWith('\r\n\r\n13\r\nERR_WORKER_RESPONSE\r\n0\r\n\r\n'), JSON.stringify(bytes));
    assert.equal(errors.length, 1);
    assert.deepEqual(inError(p), [false]);
    await assertIdle(p.mw);
  });

  test('on a reused client connection: the connection is closed without an answer and the worker put in error', async (t) => {
    const { p, errors } = await watched(t, await dropper(t));
    assert.deepEqual(await keptAlive(p.base, ['/app/ok', '/app/drop']), [
      { status: 200, reused: false },
      { status: 0, error: 'ECONNRESET', reused: true },
    ]);
    assert.deepEqual(errors, [], 'no error answer');
    assert.deepEqual(inError(p), [true]);
    await assertIdle(p.mw);
  });

  test('a pipelined request behind an answered one: the first answer whole, then the close', async (t) => {
    const { p } = await watched(t, await dropper(t));
    const bytes = await onOneConnection(p.base, [
      'GET /app/ok HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /app/drop HTTP/1.1\r\nHost: x\r\n\r\n',
    ]);
    assert.equal(bytes.match(/HTTP\/1\.1 /g)?.length, 1, JSON.stringify(bytes));
    assert.ok(bytes.startsWith('HTTP/1.1 200 OK\r\n') && bytes.endsWith('\r\n\r\nok'), JSON.stringify(bytes));
    assert.deepEqual(inError(p), [true]);
    await assertIdle(p.mw);
  });

  test('a client connection whose earlier request the app answered counts as reused', async (t) => {
    const worker = await dropper(t);
    const config: BalancerConfig = {
      balancers: [{ name: 'app', mount: '/app', members: [{ url: worker.url }] }],
      clock: new FakeClock(),
    };
    const mw = balancer(config);
    const app = express();
    app.get('/hello', (_req, res) => {
      res.send('from the app');
    });
    app.use(mw);
    const p = await listenProxy(http.createServer(app), mw);
    t.after(() => p.close());
    assert.deepEqual(await keptAlive(p.base, ['/hello', '/app/drop']), [
      { status: 200, reused: false },
      { status: 0, error: 'ECONNRESET', reused: true },
    ]);
    assert.deepEqual(inError(p), [true]);
    await assertIdle(p.mw);
  });

  test('with retryon "idempotent" the GET moves on (here to a hot standby); the worker that dropped it is in error', async (t) => {
    const bad = await dropper(t);
    const standby = await caseWorker(t, []);
    const errors: ErrorInfo[] = [];
    const p = await proxyFor(
      t,
      [{ url: bad.url }, { url: standby.url, status: '+H' }],
      { onError: (info) => errors.push(info) },
      { retryon: 'idempotent' },
    );
    assert.deepEqual(await keptAlive(p.base, ['/app/ok', '/app/drop']), [
      { status: 200, reused: false },
      { status: 404, reused: true },
    ]);
    assert.deepEqual(inError(p), [true, false]);
    assert.deepEqual([bad.requests, standby.requests], [2, 1]);
    assert.deepEqual(errors, []);
    await assertIdle(p.mw);
  });

  test('a stale worker socket on a reused client connection is still retried on the same worker, not put in error', async (t) => {
    // Each worker connection answers its first request (kept alive) and closes on its second unanswered.
    const served = new WeakMap<net.Socket, number>();
    const worker = await rawWorker(t, (s) => {
      const n = (served.get(s) ?? 0) + 1;
      served.set(s, n);
      if (n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else s.end();
    });
    const { p, attempts } = await watched(t, worker);
    assert.deepEqual(await keptAlive(p.base, ['/app/a', '/app/b']), [
      { status: 200, reused: false },
      { status: 200, reused: true },
    ]);
    assert.deepEqual(attempts, ['completed', 'stale-socket', 'completed']);
    assert.equal(worker.requests, 3);
    assert.deepEqual(inError(p), [false]);
    await assertIdle(p.mw);
  });
});
