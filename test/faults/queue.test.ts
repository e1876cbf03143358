import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balancer } from '../../lib/index.js';
import { Upstream } from '../support/upstreams.js';
import { listen, request } from '../support/http.js';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not reached');
}

test('max: requests beyond a worker’s limit wait in a FIFO queue and never exceed it', async () => {
  const up = await new Upstream('a').start();
  up.mode = { status: 200, delayMs: 60 };
  const lb = balancer({ balancers: [{ name: 'q', mount: '/q', members: [{ url: up.url, max: 2 }] }] });
  const b = lb.balancers[0]!;
  const w = b.workers[0]!;
  const srv = await listen((req, res) => lb(req, res));
  let peak = 0;
  const watch = setInterval(() => (peak = Math.max(peak, w.busy)), 1);
  try {
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => request(srv.base, `/q/${i}`)));
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.ok(peak <= 2, `busy peaked at ${peak}`);
    assert.deepEqual(
      up.hits.map((h) => h.url),
      ['/0', '/1', '/2', '/3', '/4', '/5'],
      'served in arrival order',
    );
    assert.equal(b.queued, 0);
  } finally {
    clearInterval(watch);
    await lb.close(100);
    await srv.close();
    await up.stop();
  }
});

test('max: a full queue answers 503 with Retry-After at once; a queue wait times out with 503', async () => {
  const up = await new Upstream('a').start();
  up.mode = { status: 200, delayMs: 400 };
  const lb = balancer({
    balancers: [{ name: 'q', mount: '/q', queue: { size: 1, timeout: 150 }, members: [{ url: up.url, max: 1 }] }],
  });
  const b = lb.balancers[0]!;
  const srv = await listen((req, res) => lb(req, res));
  try {
    const first = request(srv.base, '/q/1');
    await until(() => b.workers[0]!.busy === 1);
    const queued = request(srv.base, '/q/2');
    await until(() => b.queued === 1);
    const overflow = await request(srv.base, '/q/3');
    assert.equal(overflow.status, 503);
    assert.equal(overflow.headers['retry-after'], '1');
    const timedOut = await queued;
    assert.equal(timedOut.status, 503, 'waited 150 ms in the queue, then gave up');
    assert.equal((await first).status, 200);
    assert.deepEqual(
      up.hits.map((h) => h.url),
      ['/1'],
    );
  } finally {
    await lb.close(100);
    await srv.close();
    await up.stop();
  }
});

test('max: a full worker is not a hole — its hot standby is not used, and a sticky request waits for it', async () => {
  const a = await new Upstream('a').start();
  const h = await new Upstream('h').start();
  a.mode = { status: 200, delayMs: 100 };
  const lb = balancer({
    balancers: [
      {
        name: 'q',
        mount: '/q',
        stickysession: 'S',
        members: [
          { url: a.url, max: 1, route: 'ra' },
          { url: h.url, status: '+H', route: 'rh' },
        ],
      },
    ],
  });
  const srv = await listen((req, res) => lb(req, res));
  try {
    const replies = await Promise.all([
      request(srv.base, '/q/1'),
      request(srv.base, '/q/2'),
      request(srv.base, '/q/3', { headers: { cookie: 'S=x.ra' } }),
    ]);
    assert.deepEqual(
      replies.map((r) => r.from),
      ['a', 'a', 'a'],
    );
    assert.equal(h.hits.length, 0);
  } finally {
    await lb.close(100);
    await srv.close();
    await a.stop();
    await h.stop();
  }
});

test('a client that leaves while queued is dropped from the queue', async () => {
  const up = await new Upstream('a').start();
  up.mode = { status: 200, delayMs: 200 };
  const lb = balancer({ balancers: [{ name: 'q', mount: '/q', members: [{ url: up.url, max: 1 }] }] });
  const b = lb.balancers[0]!;
  const srv = await listen((req, res) => lb(req, res));
  try {
    const first = request(srv.base, '/q/1');
    await until(() => b.workers[0]!.busy === 1);
    await assert.rejects(request(srv.base, '/q/2', { timeoutMs: 50 }));
    await until(() => b.queued === 0);
    assert.equal((await first).status, 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      up.hits.map((h) => h.url),
      ['/1'],
      'the abandoned request was never sent',
    );
  } finally {
    await lb.close(100);
    await srv.close();
    await up.stop();
  }
});
