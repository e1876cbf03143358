/**
 * close() and drain: in-flight requests finish, new ones are refused with 503, no timer or socket
 * is left (a child process must exit by itself), and one worker can be drained from code.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { balancer, healthOf } from '../../lib/index.js';
import type { WorkerEvent } from '../../lib/index.js';
import { listen, request } from '../support/http.js';
import { Upstream } from '../support/upstreams.js';
import { until } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

describe('close()', () => {
  it('a process with health checks, traffic and a check in flight exits by itself after close()', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'fixtures', 'close-child.ts')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 8000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(killer);
    assert.equal(code, 0, `child did not exit cleanly by itself (code ${code}): ${err}`);
    const seen = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
    assert.deepEqual(seen, { inFlight: 200, refused: 503, sockets: 0, timers: 0 });
  });

  it('stops the health checkers and refuses new requests with ERR_CLOSED', async () => {
    const up = await new Upstream('a').start();
    const mw = balancer({ balancers: [{ name: 'x', mount: '/app', members: [{ url: up.url, hcmethod: 'TCP' }] }] });
    const front = await listen((req, res) => mw(req, res));
    try {
      assert.ok(healthOf(mw.balancers[0]!));
      await mw.close(1000);
      assert.equal(healthOf(mw.balancers[0]!), undefined);
      const r = await request(front.base, '/app/x');
      assert.equal(r.status, 503);
    } finally {
      await front.close();
      await up.stop();
    }
  });
});

describe('drain', () => {
  const ups: Upstream[] = [];
  before(async () => {
    for (const n of ['a', 'b']) ups.push(await new Upstream(n).start());
  });
  after(async () => {
    for (const u of ups) await u.stop();
  });

  it('sets N, sends new traffic elsewhere, resolves when the in-flight request is done', async () => {
    const mw = balancer({ balancers: [{ name: 'd', mount: '/app', members: ups.map((u) => ({ url: u.url })) }] });
    const front = await listen((req, res) => mw(req, res));
    const b = mw.balancers[0]!;
    const drained: WorkerEvent[] = [];
    b.on('worker-drained', (e) => drained.push(e));
    try {
      ups[0]!.mode = { status: 200, delayMs: 300 };
      const slow = request(front.base, '/app/slow'); // byrequests: first pick is a
      await until(() => b.workers[0]!.busy === 1);
      const done = mw.drain('d', b.workers[0]!.name, 5000);
      assert.equal(b.workers[0]!.draining, true);
      const during = await Promise.all([request(front.base, '/app/1'), request(front.base, '/app/2')]);
      assert.deepEqual(
        during.map((r) => r.from),
        ['b', 'b'],
      );
      assert.equal(drained.length, 0);
      assert.equal((await slow).from, 'a');
      assert.equal(await done, true);
      assert.equal(drained.length, 1);
      assert.equal(drained[0]!.worker, b.workers[0]);
      assert.equal(await mw.drain('d', 'http://nope:1', 10), false);
    } finally {
      ups[0]!.mode = 'ok';
      await front.close();
      await mw.close(100);
    }
  });

  it('resolves false on its deadline while a request is still in flight', async () => {
    const mw = balancer({ balancers: [{ name: 'd', mount: '/app', members: ups.map((u) => ({ url: u.url })) }] });
    const front = await listen((req, res) => mw(req, res));
    const b = mw.balancers[0]!;
    try {
      ups[0]!.mode = 'hang';
      const hung = request(front.base, '/app/h', { timeoutMs: 2000 }).catch(() => undefined);
      await until(() => b.workers[0]!.busy === 1);
      assert.equal(await mw.drain('d', b.workers[0]!.name, 100), false);
      await front.close();
      await hung;
    } finally {
      ups[0]!.mode = 'ok';
      await mw.close(100);
    }
  });
});
