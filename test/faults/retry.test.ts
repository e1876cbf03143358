import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balancer, type BalancerOptions } from '../../lib/index.js';
import { RawServer, type RawBehaviour } from '../support/raw-server.js';
import { Upstream, closedPort } from '../support/upstreams.js';
import { listen, request } from '../support/http.js';

/** Reads the request (head and body), records it, then dies without answering. */
function dieAfterReceiving(seen: string[]): RawBehaviour {
  return (socket, head) => {
    seen.push(head.split('\r\n')[0]!);
    setTimeout(() => socket.destroy(), 10);
  };
}

async function rig(opts: Partial<BalancerOptions>) {
  const seen: string[] = [];
  const dying = await new RawServer(dieAfterReceiving(seen)).start();
  const healthy = await new Upstream('b').start();
  const lb = balancer({
    balancers: [{ name: 'r', mount: '/r', ...opts, members: [{ url: dying.url }, { url: healthy.url }] }],
  });
  const srv = await listen((req, res) => lb(req, res));
  return {
    lb,
    seen,
    healthy,
    base: srv.base,
    async close() {
      await lb.close(100);
      await srv.close();
      await dying.stop();
      await healthy.stop();
    },
  };
}

test('duplicate requests: by default nothing that reached a worker is sent to another (POST and GET)', async () => {
  const r = await rig({});
  try {
    const post = await request(r.base, '/r/order', { method: 'POST', body: 'pay 10' });
    assert.equal(post.status, 502);
    const get = await request(r.base, '/r/page');
    // byrequests: the second request goes to b, the third back to the dying worker
    assert.equal(get.from, 'b');
    const get2 = await request(r.base, '/r/page2');
    assert.equal(get2.status, 502);
    assert.deepEqual(r.seen, ['POST /order HTTP/1.1', 'GET /page2 HTTP/1.1']);
    assert.deepEqual(
      r.healthy.hits.map((h) => h.url),
      ['/page'],
    );
  } finally {
    await r.close();
  }
});

test('duplicate requests: with retryon "idempotent", a GET is re-sent to another worker, a POST never', async () => {
  const r = await rig({ retryon: 'idempotent' });
  try {
    const post = await request(r.base, '/r/order', { method: 'POST', body: 'pay 10' });
    assert.equal(post.status, 502, 'the POST reached a worker: never replayed');
    assert.equal(r.healthy.hits.filter((h) => h.method === 'POST').length, 0);
    await request(r.base, '/r/skip'); // b's turn
    const get = await request(r.base, '/r/page');
    assert.equal(get.status, 200);
    assert.equal(get.from, 'b', 'the GET was re-sent to the healthy worker');
    assert.deepEqual(r.seen, ['POST /order HTTP/1.1', 'GET /page HTTP/1.1']);
    const dying = r.lb.balancers[0]!.workers[0]!;
    assert.equal(dying.inError, false, 'a response failure does not mark the worker (Apache); outlier detection may');
    assert.equal(r.lb.balancers[0]!.retrying, 0);
  } finally {
    await r.close();
  }
});

test('duplicate requests: a route may opt a POST in to replay (idempotency key)', async () => {
  const r = await rig({ replay: (req) => req.headers['idempotency-key'] !== undefined });
  try {
    const keyed = await request(r.base, '/r/order', {
      method: 'POST',
      body: 'pay 10',
      headers: { 'idempotency-key': 'k1' },
    });
    assert.equal(keyed.status, 200);
    assert.equal(keyed.from, 'b');
    assert.equal(r.healthy.hits[0]!.body.toString(), 'pay 10', 'the same body, replayed from the buffer');
  } finally {
    await r.close();
  }
});

test('retry budget: with no budget, a connect failure is not retried even though attempts remain', async () => {
  const dead = await closedPort();
  const ok = await new Upstream('b').start();
  const lb = balancer({
    balancers: [
      {
        name: 'r',
        mount: '/r',
        retrybudget: { percent: 0, min: 0 },
        members: [{ url: `http://127.0.0.1:${dead}` }, { url: ok.url }],
      },
    ],
  });
  const srv = await listen((req, res) => lb(req, res));
  try {
    const first = await request(srv.base, '/r/x');
    assert.equal(first.status, 503);
    assert.equal(ok.hits.length, 0);
    assert.equal(lb.balancers[0]!.workers[0]!.inError, true, 'still marked: the next request avoids it');
    assert.equal((await request(srv.base, '/r/y')).from, 'b');
  } finally {
    await lb.close(100);
    await srv.close();
    await ok.stop();
  }
});

test('retry budget: caps retries in flight at max(min, percent of requests in flight)', async () => {
  const ports = await Promise.all([closedPort(), closedPort()]);
  const slow = await new Upstream('c').start();
  slow.mode = { status: 200, delayMs: 150 };
  const lb = balancer({
    balancers: [
      {
        name: 'r',
        mount: '/r',
        retrybudget: { percent: 0, min: 1 },
        members: [...ports.map((p) => ({ url: `http://127.0.0.1:${p}`, retry: 0 })), { url: slow.url, loadfactor: 1 }],
      },
    ],
  });
  const b = lb.balancers[0]!;
  const srv = await listen((req, res) => lb(req, res));
  let peak = 0;
  const watch = setInterval(() => (peak = Math.max(peak, b.retrying)), 1);
  try {
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => request(srv.base, `/r/${i}`)));
    assert.ok(peak <= 1, `retries in flight peaked at ${peak}`);
    assert.ok(
      replies.some((r) => r.status === 503),
      'some requests were refused a retry',
    );
    assert.ok(
      replies.some((r) => r.status === 200),
      'some got through',
    );
    assert.equal(b.retrying, 0);
    assert.equal(b.inflight, 0);
  } finally {
    clearInterval(watch);
    await lb.close(100);
    await srv.close();
    await slow.stop();
  }
});
