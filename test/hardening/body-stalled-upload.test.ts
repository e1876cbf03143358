// bodyTimeout covers the whole request body, also the part streamed to the worker past replayBufferBytes.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Outcome } from '../../lib/forward/outcome.js';
import { request } from '../support/http.js';
import { httpBackend } from '../e2e/helpers/backends.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, busyCounts, eventually, startProxy } from '../e2e/helpers/proxy.js';
import { rawClient } from './body-raw-client.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

interface Hit {
  url: string;
  bytes: number;
  complete: boolean;
  aborted: boolean;
}

test(
  'stalled streamed uploads get 408, their worker requests are aborted and a max: 2 worker serves again',
  { timeout: 20_000 },
  async (t) => {
    const hits: Hit[] = [];
    const worker = await httpBackend((req, res) => {
      const hit: Hit = { url: req.url ?? '', bytes: 0, complete: false, aborted: false };
      hits.push(hit);
      req.on('data', (c: Buffer) => {
        hit.bytes += c.length;
      });
      req.on('end', () => {
        hit.complete = true;
        res.end(`done ${hit.bytes}`);
      });
      req.on('close', () => {
        if (!hit.complete) hit.aborted = true;
      });
    });
    t.after(() => worker.close());
    const codes: string[] = [];
    const p = await startProxy({
      bodyTimeout: 200,
      replayBufferBytes: 1024,
      onError: (info, _req, res) => {
        codes.push(info.error.code);
        res.writeHead(info.status, { 'content-type': 'text/plain' });
        res.end(info.error.code);
      },
      balancers: [{ name: 'app', mount: '/app', members: [{ url: worker.url, max: 2 }] }],
    });
    t.after(() => p.close());
    const b = p.mw.balancers[0]!;
    const outcomes: Outcome['kind'][] = [];
    b.on('attempt', (e: { outcome: Outcome }) => outcomes.push(e.outcome.kind));

    // Headers and 4 KiB of a 100 KB body (past the 1 KiB replay buffer, so it streams), then nothing.
    const stalledHead = (i: number): Buffer =>
      Buffer.concat([
        Buffer.from(`POST /app/stalled${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`),
        Buffer.alloc(4096, 0x61),
      ]);
    const stalled = [await rawClient(p.base, stalledHead(1)), await rawClient(p.base, stalledHead(2))];
    assert.ok(
      await eventually(() => hits.length === 2 && hits.every((h) => h.bytes === 4096)),
      'both uploads reach the worker',
    );
    assert.deepEqual(busyCounts(p.mw), [2], 'the stalled uploads hold both slots');

    // Waits in the queue until a stalled upload gives its slot back.
    const next = request(p.base, '/app/next', { method: 'POST', body: 'small' });
    const answers = await Promise.all(stalled.map((c) => c.closed));
    for (const a of answers) {
      assert.match(a, /^HTTP\/1\.1 408 /, 'the stalled client is answered 408');
      assert.match(a, /\r\nConnection: close\r\n/i, 'and told the connection ends');
      assert.ok(a.includes('\r\n\r\n10\r\nERR_BODY_TIMEOUT\r\n0\r\n\r\n'), a);
    }
    assert.ok(
      stalled.every((c) => c.ended),
      'the balancer closed both client connections',
    );
    const r = await next;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'done 5');
    assert.deepEqual(
      hits.map((h) => [h.url, h.bytes, h.aborted]).sort(),
      [
        ['/next', 5, false],
        ['/stalled1', 4096, true],
        ['/stalled2', 4096, true],
      ],
      'the worker saw both stalled requests aborted mid-body',
    );
    assert.deepEqual(codes, ['ERR_BODY_TIMEOUT', 'ERR_BODY_TIMEOUT']);
    // A stalled client says nothing about the worker: neither a failure nor in error. The queued request
    // may complete before the second stalled upload is accounted (it does on Node 22 and 24).
    assert.deepEqual([...outcomes].sort(), ['client-aborted', 'client-aborted', 'completed']);
    assert.equal(b.workers[0]!.inError, false);
    await assertIdle(p.mw);
  },
);

test(
  'a client that stalls after the worker answered early is cut off and frees the slot',
  { timeout: 20_000 },
  async (t) => {
    let aborted = 0;
    const worker = await httpBackend((req, res) => {
      if (req.url !== '/early') {
        res.end('ok');
        return;
      }
      // Answers before reading the body, as a worker refusing an upload does.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('early');
      req.on('close', () => {
        if (!req.complete) aborted++;
      });
      req.resume();
    });
    t.after(() => worker.close());
    const p = await startProxy({
      bodyTimeout: 200,
      replayBufferBytes: 1024,
      balancers: [{ name: 'app', mount: '/app', members: [{ url: worker.url, max: 1 }] }],
    });
    t.after(() => p.close());
    const c = await rawClient(
      p.base,
      Buffer.concat([
        Buffer.from('POST /app/early HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n'),
        Buffer.alloc(4096, 0x61),
      ]),
    );
    const answer = await c.closed;
    assert.match(answer, /^HTTP\/1\.1 200 /, 'the worker answer started');
    assert.ok(answer.endsWith('\r\n\r\n5\r\nearly\r\n'), `cut after what the worker sent, never ended: ${answer}`);
    assert.ok(await eventually(() => aborted === 1), 'the worker request was aborted');
    const r = await request(p.base, '/app/after');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
    await assertIdle(p.mw);
  },
);

test('a worker slow to read a streamed body is not taken for a stalled client', { timeout: 20_000 }, async (t) => {
  const size = 16 << 20;
  const worker = await httpBackend((req, res) => {
    // Reads nothing for several bodyTimeouts: the balancer's writes back up to the client.
    req.pause();
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => res.end(String(bytes)));
    setTimeout(() => req.resume(), 1000);
  });
  t.after(() => worker.close());
  const p = await startProxy({
    bodyTimeout: 200,
    replayBufferBytes: 1024,
    balancers: [{ name: 'app', mount: '/app', members: [{ url: worker.url }] }],
  });
  t.after(() => p.close());
  const r = await request(p.base, '/app/big', { method: 'POST', body: Buffer.alloc(size, 0x62) });
  assert.equal(r.status, 200);
  assert.equal(r.body, String(size));
  await assertIdle(p.mw);
});
