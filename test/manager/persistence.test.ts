import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import express from 'express';
import { balancer, FileStore, MemoryStore, StoreError, managerRouter } from '../../lib/index.js';
import type { BalancerConfig, StateStore } from '../../lib/index.js';
import { applyPersisted, toPersisted } from '../../lib/balancer/admin.js';
import { listen, request } from '../support/http.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { postForm, traffic, type Setup } from './helpers.js';

interface SavedFile {
  format: string;
  balancers: Record<string, { version: number } | undefined>;
}

function readSaved(file: string): SavedFile {
  return JSON.parse(readFileSync(file, 'utf8')) as SavedFile;
}

function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'epb-manager-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'state', 'balancers.json');
}

/** A running app (balancer + manager) over `store`; stop() closes it like a process exit. */
async function start(ups: Upstream[], store: StateStore, extra: Partial<BalancerConfig['balancers'][number]> = {}) {
  const lb = balancer({
    store,
    balancers: [
      {
        name: 'oracle',
        mount: '/app',
        growth: 1,
        members: ups.slice(0, 3).map((u, i) => ({ url: u.url, route: `r${i + 1}` })),
        ...extra,
      },
    ],
  });
  const router = managerRouter(lb);
  const app = express();
  app.use('/balancer-manager', router);
  app.use(lb);
  // Quiet stand-in for Express's default handler, which would print the StoreError on stderr.
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).end(err instanceof StoreError ? err.code : 'error');
  });
  const srv = await listen(app);
  const s: Setup = { base: srv.base, manager: `${srv.base}/balancer-manager`, lb, router, ups };
  const stop = async (): Promise<void> => {
    await srv.close();
    await lb.close(100);
  };
  return { s, stop };
}

describe('persistence through a restart (FileStore)', () => {
  test('admin edits and added workers survive; traffic after the restart follows them', async (t) => {
    const ups = await startUpstreams('a', 'b', 'c', 'd');
    t.after(() => stopAll(ups));
    const file = tempFile(t);
    const first = await start(ups, new FileStore(file));
    const url = (i: number): string => ups[i]!.url;
    const changes: Record<string, string>[] = [
      { w: url(1), w_status_D: '1' },
      { w: url(0), w_lf: '2.5', w_rr: 'r3' },
      { w: url(2), w_wr: 'r3x', w_status_N: '1' },
      { b_ss: 'SID|sid', b_max: '1', b_tmo: '5', b_sforce: '1', b_lbm: 'bybusyness' },
      { b_nwrkr: url(3), b_wyes: '1' },
      { w: url(3), w_status_D: '0', w_wr: 'r4' },
    ];
    for (const fields of changes) {
      assert.equal((await postForm(first.s, fields)).status, 303, JSON.stringify(fields));
    }
    const saved = readSaved(file);
    assert.equal(saved.format, 'express-proxy-balancer/state@1');
    assert.equal(saved.balancers.oracle?.version, 6, 'one version per saved change');
    assert.deepEqual(readdirSync(join(file, '..')), ['balancers.json'], 'no temporary file left behind');
    await first.stop();

    const second = await start(ups, new FileStore(file));
    await second.s.lb.ready;
    const b = second.s.lb.balancers[0]!;
    assert.equal(b.workers.length, 4);
    assert.deepEqual(
      b.workers.map((w) => [w.name, w.lbfactor, w.route, w.redirect, w.status]),
      [
        [url(0), 250, 'r1', 'r3', 0],
        [url(1), 100, 'r2', '', 4],
        [url(2), 100, 'r3x', '', 2],
        [url(3), 100, 'r4', '', 0],
      ],
    );
    assert.deepEqual(b.sticky, { cookie: 'SID', param: 'sid' });
    assert.equal(b.maxattemptsSet, 1);
    assert.equal(b.timeoutMs, 5000);
    assert.equal(b.nofailover, true);
    assert.equal(b.lbmethod, 'bybusyness');
    const seen = new Set(await traffic(second.s, 12));
    assert.ok(!seen.has('b'), 'b stays disabled');
    assert.ok(!seen.has('c'), 'c stays draining');
    assert.ok(seen.has('d'), 'the added worker is back, enabled');
    assert.equal((await request(second.s.base, '/app/x', { headers: { cookie: 'SID=z.r4' } })).from, 'd');
    // The next change continues the version sequence.
    await postForm(second.s, { b_max: '2' });
    assert.equal(readSaved(file).balancers.oracle!.version, 7);
    await second.stop();
  });

  test('stored state that no longer fits the configuration is skipped, the rest applied', async (t) => {
    const ups = await startUpstreams('a', 'b', 'c');
    t.after(() => stopAll(ups));
    const store = new MemoryStore();
    await store.save('oracle', {
      version: 2,
      lbmethod: 'gone',
      workers: [
        { name: 'http://127.0.0.1:1', status: 'D' },
        { name: ups[0]!.url, lbfactor: 300 },
      ],
      added: ['not a url', 'http://127.0.0.1:2', 'http://127.0.0.1:3'],
    });
    const app = await start(ups, store);
    t.after(() => app.stop());
    const b = app.s.lb.balancers[0]!;
    assert.equal(b.lbmethod, 'byrequests');
    assert.equal(b.workers[0]!.lbfactor, 300);
    assert.deepEqual(
      b.workers.map((w) => w.name),
      [...ups.map((u) => u.url), 'http://127.0.0.1:2'],
      'only one growth slot: the second added worker does not fit',
    );
  });

  test('toPersisted / applyPersisted round-trip (the StateStore contract for other stores)', async (t) => {
    const ups = await startUpstreams('a', 'b', 'c');
    t.after(() => stopAll(ups));
    const one = await start(ups, new MemoryStore());
    t.after(() => one.stop());
    await postForm(one.s, { w: ups[1]!.url, w_status_H: '1', w_ls: '2', w_lf: '7' });
    await postForm(one.s, { b_ss: 'JSESSIONID', b_nwrkr: 'http://127.0.0.1:9', b_wyes: '1' });
    const state = toPersisted(one.s.lb.balancers[0]!);
    const two = await start(ups, new MemoryStore());
    t.after(() => two.stop());
    applyPersisted(two.s.lb.balancers[0]!, structuredClone(state));
    const again = toPersisted(two.s.lb.balancers[0]!);
    assert.deepEqual({ ...again, version: 0 }, { ...state, version: 0 });
    assert.ok(again.version > state.version);
  });
});

describe('a corrupt state file is a clear error at start-up, never silent loss', () => {
  const bad: [string, string][] = [
    ['not JSON', '{"format": "express-proxy-balancer/state@1", "balancers": {'],
    ['another format', '{"format": "something else", "balancers": {}}'],
    [
      'a balancer without version',
      '{"format": "express-proxy-balancer/state@1", "balancers": {"oracle": {"workers": [], "added": []}}}',
    ],
    [
      'an out-of-range loadfactor',
      '{"format": "express-proxy-balancer/state@1", "balancers": {"oracle": {"version": 1, "workers": [{"name": "x", "lbfactor": 0}], "added": []}}}',
    ],
  ];
  for (const [label, content] of bad) {
    test(label, async (t) => {
      const ups = await startUpstreams('a', 'b', 'c');
      t.after(() => stopAll(ups));
      const file = tempFile(t);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      const fresh = new FileStore(file);
      const app = await start(ups, fresh);
      t.after(() => app.stop());
      await assert.rejects(app.s.lb.ready, (err: unknown) => {
        assert.ok(err instanceof StoreError);
        assert.equal(err.code, 'ERR_STORE_CORRUPT');
        assert.equal(err.file, file);
        assert.match(err.message, /fix or remove it/);
        return true;
      });
      const proxied = await request(app.s.base, '/app/x');
      assert.equal(proxied.status, 500, 'the balancer refuses rather than run with half its state');
      assert.equal(proxied.body, 'ERR_STORE_CORRUPT', 'the error reaches the app through next(err)');
      const change = await postForm(app.s, { b_max: '1' });
      assert.equal(change.status, 503);
      assert.match(change.body, /stored state was not loaded/);
      await assert.rejects(fresh.save('oracle', { version: 1, workers: [], added: [] }), StoreError);
      assert.equal(readFileSync(file, 'utf8'), content, 'the damaged file is left as it was');
      assert.equal((await request(app.s.base, '/balancer-manager')).status, 200, 'the manager still shows the page');
    });
  }

  test('a missing file is a fresh start', async () => {
    const store = new FileStore(join(tmpdir(), `epb-missing-${process.pid}-${Date.now()}`, 'x.json'));
    assert.equal(await store.load('oracle'), undefined);
  });
});

describe('FileStore writes', () => {
  test('concurrent saves land in call order; the last one wins; the file is always complete', async (t) => {
    const file = tempFile(t);
    const store = new FileStore(file);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.save('oracle', { version: i + 1, workers: [], added: [] })),
    );
    assert.equal(readSaved(file).balancers.oracle!.version, 20);
    const reread = new FileStore(file);
    assert.equal((await reread.load('oracle'))?.version, 20);
    assert.deepEqual(readdirSync(join(file, '..')), ['balancers.json']);
  });

  test('two balancers share one file', async (t) => {
    const file = tempFile(t);
    const store = new FileStore(file);
    await store.save('one', { version: 1, workers: [], added: [], lbmethod: 'bytraffic' });
    await store.save('two', { version: 4, workers: [{ name: 'http://h', status: 'D' }], added: [] });
    const reread = new FileStore(file);
    assert.equal((await reread.load('one'))?.lbmethod, 'bytraffic');
    assert.equal((await reread.load('two'))?.workers[0]?.status, 'D');
  });
});
