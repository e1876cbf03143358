import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { BalancerConfig, ErrorInfo, MemberOptions } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { ProcessGuard } from './helpers/guard.js';
import { assertIdle, startProxy, totalSockets, type Proxy } from './helpers/proxy.js';
import { echo, pattern, send, sha256 } from './helpers/client.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

async function setup(
  t: TestContext,
  members: MemberOptions[],
  global: Partial<BalancerConfig> = {},
): Promise<{ p: Proxy; errors: ErrorInfo[] }> {
  const errors: ErrorInfo[] = [];
  const p = await startProxy({
    balancers: [{ name: 'app', mount: '/app', members }],
    clock: new FakeClock(),
    onError: (info, _req, res) => {
      errors.push(info);
      res.writeHead(info.status, { 'content-type': 'text/plain' });
      res.end(info.error.code);
    },
    ...global,
  });
  t.after(() => p.close());
  return { p, errors };
}

/** a refuses connections (stopped), b is up. */
async function refusingFirst(t: TestContext): Promise<{ a: Upstream; b: Upstream }> {
  const [a, b] = await startUpstreams('a', 'b');
  t.after(() => stopAll([a!, b!]));
  await a!.stop();
  return { a: a!, b: b! };
}

function inError(p: Proxy): boolean[] {
  return p.mw.balancers[0]!.workers.map((w) => w.inError);
}

describe('buffered bodies are replayed byte for byte on failover', () => {
  const sizes: [string, number][] = [
    ['8 B', 8],
    ['64 B', 64],
    ['2 KiB', 2 * 1024],
    ['4 KiB', 4 * 1024],
    ['1 MiB (exactly the default replay limit)', 1024 * 1024],
  ];
  for (const [label, size] of sizes) {
    test(`POST ${label}`, async (t) => {
      const { a, b } = await refusingFirst(t);
      const { p } = await setup(t, [{ url: a.url }, { url: b.url }]);
      const body = pattern(size, size);
      const r = await send(p.base, '/app/upload', { method: 'POST', body });
      assert.equal(r.status, 200);
      assert.equal(echo(r).name, 'b');
      assert.deepEqual(inError(p), [true, false], 'the first choice refused and was marked');
      assert.equal(b.hits.length, 1);
      const hit = b.hits[0]!;
      assert.equal(hit.body.length, size);
      assert.equal(sha256(hit.body), sha256(body));
      assert.equal(hit.headers['content-length'], String(size));
      await assertIdle(p.mw);
    });
  }

  test('a chunked body (no content-length) is replayed identically', async (t) => {
    const { a, b } = await refusingFirst(t);
    const { p } = await setup(t, [{ url: a.url }, { url: b.url }]);
    const body = pattern(100 * 1024 + 17, 3);
    const r = await send(p.base, '/app/chunked', { method: 'PUT', body, chunked: true });
    assert.equal(r.status, 200);
    assert.equal(echo(r).name, 'b');
    assert.equal(b.hits.length, 1);
    assert.equal(b.hits[0]!.method, 'PUT');
    assert.equal(sha256(b.hits[0]!.body), sha256(body));
    await assertIdle(p.mw);
  });

  test('the same buffered body survives two failed attempts', async (t) => {
    const [a, b, c] = await startUpstreams('a', 'b', 'c');
    t.after(() => stopAll([a!, b!, c!]));
    await a!.stop();
    await b!.stop();
    const { p } = await setup(t, [{ url: a!.url }, { url: b!.url }, { url: c!.url }]);
    const body = pattern(3000, 9);
    const r = await send(p.base, '/app/twice', { method: 'POST', body });
    assert.equal(r.status, 200);
    assert.equal(echo(r).name, 'c');
    assert.equal(sha256(c!.hits[0]!.body), sha256(body));
    await assertIdle(p.mw);
  });
});

describe('bodies larger than replayBufferBytes stream once', () => {
  const limit = 1024;

  for (const chunked of [false, true]) {
    const how = chunked ? 'chunked' : 'content-length';
    test(`a streamed body (${how}) reaches an up worker intact`, async (t) => {
      const [b] = await startUpstreams('b');
      t.after(() => b!.stop());
      const { p } = await setup(t, [{ url: b!.url }], { replayBufferBytes: limit });
      const body = pattern(256 * 1024 + 5, 11);
      const r = await send(p.base, '/app/stream', { method: 'POST', body, chunked });
      assert.equal(r.status, 200);
      assert.equal(b!.hits.length, 1);
      assert.equal(b!.hits[0]!.body.length, body.length);
      assert.equal(sha256(b!.hits[0]!.body), sha256(body));
      await assertIdle(p.mw);
    });

    test(`a streamed body (${how}) does not fail over: 503, never a hang`, async (t) => {
      const { a, b } = await refusingFirst(t);
      const { p, errors } = await setup(t, [{ url: a.url }, { url: b.url }], { replayBufferBytes: limit });
      const body = pattern(4 * 1024 * 1024, 13);
      const r = await send(p.base, '/app/stream', { method: 'POST', body, chunked, timeoutMs: 5000 });
      assert.equal(r.status, 503, String(r.error));
      assert.equal(errors[0]?.error.code, 'ERR_WORKER_CONNECT');
      assert.equal(b.hits.length, 0, 'a streamed body is never replayed');
      assert.deepEqual(inError(p), [true, false], 'the refusing worker is still marked');
      await assertIdle(p.mw);
      // The next request (small body, buffered) goes to b.
      const next = await send(p.base, '/app/next', { method: 'POST', body: 'small' });
      assert.equal(next.status, 200);
      assert.equal(b.hits[0]!.body.toString(), 'small');
      await assertIdle(p.mw);
    });
  }

  test('one byte over the limit streams; exactly the limit is replayed', async (t) => {
    const { a, b } = await refusingFirst(t);
    const cfg = { replayBufferBytes: limit };
    const at = await setup(t, [{ url: a.url }, { url: b.url }], cfg);
    assert.equal((await send(at.p.base, '/app/x', { method: 'POST', body: pattern(limit, 1) })).status, 200);
    const over = await setup(t, [{ url: a.url }, { url: b.url }], cfg);
    assert.equal((await send(over.p.base, '/app/x', { method: 'POST', body: pattern(limit + 1, 1) })).status, 503);
    assert.equal(b.hits.length, 1);
    await assertIdle(at.p.mw);
    await assertIdle(over.p.mw);
  });

  test('repeated streamed-body failures leave no busy count and no pooled socket behind', async (t) => {
    const { a, b } = await refusingFirst(t);
    const { p } = await setup(t, [{ url: a.url, retry: 0 }, { url: b.url }], { replayBufferBytes: limit });
    const body = pattern(8 * 1024, 5);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await send(p.base, '/app/s', { method: 'POST', body, timeoutMs: 5000 })).status);
      await assertIdle(p.mw);
    }
    // byrequests alternates first choices; a (retry 0) refuses whenever it is first.
    assert.ok(
      statuses.every((s) => s === 200 || s === 503),
      statuses.join(','),
    );
    assert.ok(statuses.includes(503));
    assert.equal(p.mw.socketCounts().get(a.url), 0);
    assert.ok(totalSockets(p.mw) <= 1);
    for (const h of b.hits) assert.equal(sha256(h.body), sha256(body));
  });
});
