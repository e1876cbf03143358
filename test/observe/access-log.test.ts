/**
 * The `request` event (the access log): one per request when it ends, with the workers tried, the
 * attempts, the status, the bytes and each phase's time on the balancer's clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { balancer, type BalancerOptions, type RequestEvent } from '../../lib/index.js';
import { RequestRecord } from '../../lib/proxy/request-record.js';
import { createContext } from '../../lib/model/context.js';
import { FakeClock } from '../support/clock.js';
import { RawServer } from '../support/raw-server.js';
import { Upstream, closedPort } from '../support/upstreams.js';
import { listen, request } from '../support/http.js';

/**
 * A worker the test drives: on each request it moves the clock by `headAfterMs`, sends its head
 * and a first chunk, and ends only when the test calls the request's `finish`.
 */
async function heldWorker(clock: FakeClock, headAfterMs: number) {
  const pending: ((body: string) => void)[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      clock.advance(headAfterMs);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('head;');
      pending.push((body) => res.end(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pending,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Sends a GET; `onHead` runs when the response head arrives, and the body is awaited. */
function get(
  base: string,
  path: string,
  onHead: () => void = () => undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { agent: false }, (res) => {
      onHead();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

async function rig(opts: Partial<BalancerOptions>, urls: string[], clock?: FakeClock, max?: number) {
  const lb = balancer({
    ...(clock ? { clock } : {}),
    balancers: [{ name: 'app', mount: '/app', ...opts, members: urls.map((url) => ({ url, max })) }],
  });
  const events: RequestEvent[] = [];
  lb.balancers[0]!.on('request', (e) => events.push(e));
  const srv = await listen((req, res) => lb(req, res));
  return {
    lb,
    events,
    base: srv.base,
    async close() {
      await lb.close(100);
      await srv.close();
    },
  };
}

test('access log: one event per request, with time to first byte and total on the balancer clock', async () => {
  const clock = new FakeClock();
  const w = await heldWorker(clock, 40);
  const r = await rig({}, [w.url], clock);
  try {
    const reply = get(r.base, '/app/page?id=1', () => {
      clock.advance(7);
      w.pending.shift()!('tail');
    });
    assert.deepEqual(await reply, { status: 200, body: 'head;tail' });
    await until(() => r.events.length === 1);
    const e = r.events[0]!;
    const worker = r.lb.balancers[0]!.workers[0]!;
    assert.equal(e.balancer, 'balancer://app');
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/app/page?id=1');
    assert.equal(e.status, 200);
    assert.equal(e.worker, worker.name);
    assert.deepEqual(e.workers, [worker.name]);
    assert.equal(e.attempts.length, 1);
    const a = e.attempts[0]!;
    assert.deepEqual(
      { outcome: a.outcome, status: a.status, attempt: a.attempt, retryOf: a.retryOf, startMs: a.startMs },
      { outcome: 'completed', status: 200, attempt: 1, retryOf: undefined, startMs: 0 },
    );
    assert.deepEqual(
      { queueMs: e.queueMs, ttfbMs: e.ttfbMs, totalMs: e.totalMs, connectMs: e.connectMs, duration: a.durationMs },
      { queueMs: 0, ttfbMs: 40, totalMs: 47, connectMs: 0, duration: 47 },
    );
    // The bytes are the worker's own counters for this one request.
    assert.deepEqual([e.sent, e.received], [worker.transferred, worker.read]);
    assert.ok(e.received > 'head;tail'.length);
    assert.equal(e.time - e.start, 47);
  } finally {
    await r.close();
    await w.stop();
  }
});

test('access log: the time a request waited in the queue for a free slot', async () => {
  const clock = new FakeClock();
  const w = await heldWorker(clock, 0);
  const r = await rig({ queue: { size: 4, timeout: '10s' } }, [w.url], clock, 1);
  const b = r.lb.balancers[0]!;
  try {
    const first = get(r.base, '/app/1');
    await until(() => w.pending.length === 1);
    const second = get(r.base, '/app/2');
    await until(() => b.queued === 1);
    clock.advance(250);
    w.pending.shift()!('1');
    await until(() => w.pending.length === 1);
    w.pending.shift()!('2');
    assert.deepEqual(await first, { status: 200, body: 'head;1' });
    assert.deepEqual(await second, { status: 200, body: 'head;2' });
    await until(() => r.events.length === 2);
    const byUrl = new Map(r.events.map((e) => [e.url, e]));
    assert.equal(byUrl.get('/app/1')!.queueMs, 0);
    assert.equal(byUrl.get('/app/2')!.queueMs, 250);
    assert.equal(byUrl.get('/app/2')!.attempts[0]!.startMs, 250);
  } finally {
    await r.close();
    await w.stop();
  }
});

test('access log: a failed-over request lists both workers and both attempts', async () => {
  const ok = await new Upstream('ok').start();
  const closed = `http://127.0.0.1:${await closedPort()}`;
  const r = await rig({}, [closed, ok.url]);
  try {
    const reply = await request(r.base, '/app/x');
    assert.equal(reply.from, 'ok');
    await until(() => r.events.length === 1);
    const e = r.events[0]!;
    assert.deepEqual(e.workers, [closed, ok.url]);
    assert.deepEqual(
      e.attempts.map((a) => [a.worker, a.attempt, a.outcome, a.retryOf, a.status]),
      [
        [closed, 1, 'connect-failed', undefined, undefined],
        [ok.url, 2, 'completed', 'connect-failed', 200],
      ],
    );
    assert.equal(e.status, 200);
    assert.equal(e.worker, ok.url);
    assert.equal(typeof e.attempts[0]!.connectMs, 'number');
    assert.equal(e.budgetRefused, false);
  } finally {
    await r.close();
    await ok.stop();
  }
});

test('access log: a retry the retry budget refuses is flagged, and the error answer is the status', async () => {
  const dying = await new RawServer((socket) => setTimeout(() => socket.destroy(), 5)).start();
  const ok = await new Upstream('ok').start();
  const r = await rig({ retryon: 'idempotent', retrybudget: { percent: 0, min: 0 } }, [dying.url, ok.url]);
  try {
    const reply = await request(r.base, '/app/x');
    assert.equal(reply.status, 502);
    await until(() => r.events.length === 1);
    const e = r.events[0]!;
    assert.equal(e.status, 502);
    assert.equal(e.budgetRefused, true);
    assert.deepEqual(
      e.attempts.map((a) => [a.worker, a.outcome]),
      [[dying.url, 'failed']],
    );
    assert.equal(ok.hits.length, 0);
  } finally {
    await r.close();
    await dying.stop();
    await ok.stop();
  }
});

test('access log: a request refused before any attempt (no usable worker) still has its event', async () => {
  const ok = await new Upstream('ok').start();
  const r = await rig({}, [ok.url]);
  try {
    r.lb.balancers[0]!.setFlag(r.lb.balancers[0]!.workers[0]!, 1 << 2, true, 'test');
    const reply = await request(r.base, '/app/x');
    assert.equal(reply.status, 503);
    await until(() => r.events.length === 1);
    assert.deepEqual(
      { status: r.events[0]!.status, workers: r.events[0]!.workers, attempts: r.events[0]!.attempts.length },
      { status: 503, workers: [], attempts: 0 },
    );
  } finally {
    await r.close();
    await ok.stop();
  }
});

test('access log: nothing is recorded while nobody listens and no tracer follows', () => {
  const lb = balancer({ balancers: [{ name: 'quiet', mount: '/q', members: [{ url: 'http://127.0.0.1:1' }] }] });
  const b = lb.balancers[0]!;
  const req = new http.IncomingMessage(null as never);
  const ctx = createContext(b.id);
  assert.equal(RequestRecord.begin(b, req, undefined, ctx), undefined);
  const listener = (): void => undefined;
  b.on('request', listener);
  assert.ok(RequestRecord.begin(b, req, undefined, ctx) instanceof RequestRecord);
  b.off('request', listener);
  assert.equal(RequestRecord.begin(b, req, undefined, ctx), undefined);
  void lb.close(0);
});
