// RedisStore against a real redis-server, in one process: records, versions, namespaces, damage, outages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisStore, RedisStoreError, balancer } from '../../lib/index.js';
import type { InstanceCounters, PersistedBalancer, SharedWorkerState } from '../../lib/index.js';
import { encodeName, decodeName, keysFor } from '../../lib/store/redis/keys.js';
import { formatRec, parseRec, wins } from '../../lib/store/redis/records.js';
import { listen, request } from '../support/http.js';
import { startUpstreams, stopAll } from '../support/upstreams.js';
import { RedisServer, redisSkip } from './redis-server.js';
import { until } from './instances.js';

const skip = redisSkip();
let n = 0;

function state(version: number, workers: PersistedBalancer['workers'], added: string[] = []): PersistedBalancer {
  return { version, lbmethod: 'byrequests', timeoutMs: 0, nofailover: false, stickysession: null, workers, added };
}

describe('names and records', () => {
  test('names are percent-encoded into keys: no colon, glob, hash tag, space or control character', () => {
    const nasty = 'a:b*c?[d]{e} f\n\u00e9/%';
    const enc = encodeName(nasty);
    assert.match(enc, /^[A-Za-z0-9._%-]+$/);
    assert.equal(decodeName(enc), nasty);
    const k = keysFor('fleet:');
    assert.equal(k.admin('x:y'), 'fleet:{b:x%3Ay}:admin');
    assert.equal(k.channel, 'fleet:events');
  });

  test('a record wins by version, then by instance id byte order; garbage is not a record', () => {
    const a = formatRec(5, 'b', '{}');
    assert.deepEqual(parseRec(a.raw), a);
    assert.ok(wins({ v: 6, by: 'a' }, { v: 5, by: 'z' }));
    assert.ok(wins({ v: 5, by: 'b' }, { v: 5, by: 'a' }));
    assert.ok(!wins({ v: 5, by: 'a' }, { v: 5, by: 'a' }));
    assert.ok(wins({ v: 5, by: 'B' }, { v: 5, by: 'A-' }));
    for (const bad of ['', 'x|y|{}', '5||{}', '5|a b|{}']) assert.equal(parseRec(bad), undefined);
  });

  test('options are checked: prefix, instance id, URL, durations', () => {
    assert.throws(() => new RedisStore({ prefix: 'a b' }), RedisStoreError);
    assert.throws(() => new RedisStore({ prefix: 'a{x}' }), RedisStoreError);
    assert.throws(() => new RedisStore({ instanceId: 'a|b' }), RedisStoreError);
    assert.throws(() => new RedisStore({ redis: 'http://x' }), /redis:\/\//);
    assert.throws(() => new RedisStore({ resyncMs: 0 }), /resyncMs/);
    assert.equal(new RedisStore({ redis: 'redis://u:secret@h:7000/2' }).target, 'redis://h:7000/2');
  });

  test('without ioredis installed, the store fails with a clear error (ERR_REDIS_MISSING)', () => {
    const hook = fileURLToPath(new URL('./fixtures/hide-ioredis.mjs', import.meta.url));
    const script = fileURLToPath(new URL('./fixtures/missing-ioredis.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', hook, '--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ERR_REDIS_MISSING: RedisStore needs the optional peer dependency "ioredis"/);
    // Importing the package itself never touches ioredis.
    assert.match(r.stdout, /imported without ioredis/);
  });
});

describe('RedisStore on a real redis-server', { skip }, () => {
  const redis = new RedisServer();
  let raw: Redis;
  const stores: RedisStore[] = [];
  const make = (o: ConstructorParameters<typeof RedisStore>[0] = {}): RedisStore => {
    const s = new RedisStore({ redis: redis.url, warn: () => undefined, ...o });
    stores.push(s);
    return s;
  };
  const prefix = (): string => `s${process.pid}-${++n}:`;

  before(async () => {
    await redis.start();
    raw = new Redis({ port: redis.port, lazyConnect: true });
    await raw.connect();
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    raw.disconnect();
    await redis.kill();
  });

  test('save writes only what changed since the seed, as one record per worker; other instances get it', async () => {
    const p = prefix();
    const a = make({ prefix: p, instanceId: 'a' });
    const b = make({ prefix: p, instanceId: 'b' });
    assert.equal(await a.load('web'), undefined);
    assert.equal(await b.load('web'), undefined);
    const base = state(0, [
      { name: 'http://w1', status: '' },
      { name: 'http://w2', status: '' },
    ]);
    a.seed('web', base);
    const got: PersistedBalancer[] = [];
    b.watch('web', (s) => got.push(s));
    const mine: PersistedBalancer[] = [];
    a.watch('web', (s) => mine.push(s));
    await a.save('web', { ...base, version: 1, workers: [{ name: 'http://w1', status: 'D' }, base.workers[1]!] });
    assert.deepEqual(await raw.hkeys(`${p}{b:web}:admin`), [`w:${encodeName('http://w1')}`]);
    await until(() => got.length === 1, 1000, 'the message');
    assert.deepEqual(got[0]!.workers, [{ name: 'http://w1', status: 'D' }]);
    assert.equal(got[0]!.lbmethod, undefined, 'settings did not change: not sent');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(mine.length, 0, 'no echo of its own write');
  });

  test('simultaneous writes with equal versions: the greater instance id wins everywhere', async () => {
    const p = prefix();
    const x1 = make({ prefix: p, instanceId: 'x1' });
    const x2 = make({ prefix: p, instanceId: 'x2' });
    await Promise.all([x1.load('web'), x2.load('web')]);
    const seen = { x1: [] as string[], x2: [] as string[] };
    x1.watch('web', (s) => seen.x1.push(s.workers[0]!.route!));
    x2.watch('web', (s) => seen.x2.push(s.workers[0]!.route!));
    await Promise.all([
      x1.save('web', state(7, [{ name: 'http://w1', route: 'from-x1' }])),
      x2.save('web', state(7, [{ name: 'http://w1', route: 'from-x2' }])),
    ]);
    const stored = parseRec((await raw.hget(`${p}{b:web}:admin`, `w:${encodeName('http://w1')}`))!)!;
    assert.equal(stored.v, 7);
    assert.equal(stored.by, 'x2');
    await until(() => seen.x1.includes('from-x2'), 1000, 'x1 to take the winner');
    assert.deepEqual(seen.x2, [], 'x2 won: nothing to apply');
    // A later edit (x1 has now seen version 7) outranks it whatever the ids.
    await x1.save('web', state(0, [{ name: 'http://w1', route: 'later' }]));
    await until(() => seen.x2.includes('later'), 1000, 'x2 to take the later edit');
    assert.equal(parseRec((await raw.hget(`${p}{b:web}:admin`, `w:${encodeName('http://w1')}`))!)!.by, 'x1');
  });

  test('a stale writer loses: Redis keeps the newer record and the writer gets it back', async () => {
    const p = prefix();
    const fresh = make({ prefix: p, instanceId: 'zz' });
    const key = `${p}{b:web}:admin`;
    const f = `w:${encodeName('http://w1')}`;
    await raw.hset(key, f, formatRec(50, 'aa', JSON.stringify({ name: 'http://w1', status: 'S' })).raw);
    // Load first, as balancer() does: it learns version 50, so its next write is 51.
    const loaded = await fresh.load('web');
    assert.deepEqual(loaded?.workers, [{ name: 'http://w1', status: 'S' }]);
    await fresh.save('web', state(1, [{ name: 'http://w1', status: '' }]));
    assert.equal(parseRec((await raw.hget(key, f))!)!.v, 51);
    // A writer that never loaded (Redis was down at its start) writes a low version and loses.
    const blind = make({ prefix: p, instanceId: 'zzz' });
    blind.seed('web', state(0, [{ name: 'http://w1', status: '' }]));
    const back: PersistedBalancer[] = [];
    blind.watch('web', (s) => back.push(s));
    await until(() => blind.connected, 2000, 'connection');
    await until(() => back.length > 0, 1000, 'resync');
    assert.deepEqual(back.at(-1)!.workers, [{ name: 'http://w1', status: '' }]);
  });

  test('fleets with different prefixes share one Redis without seeing each other', async () => {
    const [p1, p2] = [prefix(), prefix()];
    const f1 = make({ prefix: p1, instanceId: 'a' });
    const f2 = make({ prefix: p2, instanceId: 'b' });
    await Promise.all([f1.load('web'), f2.load('web')]);
    const heard: unknown[] = [];
    f2.watch('web', (s) => heard.push(s));
    f2.watchWorkerStates('web', (w, s) => heard.push([w, s]));
    await f1.save('web', state(1, [{ name: 'http://w1', status: 'D' }]));
    f1.saveWorkerState('web', 'http://w1', { inError: true, errorTime: 1, hcFailed: false });
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(heard, []);
    assert.equal(await make({ prefix: p2 }).load('web'), undefined);
    const keys = await raw.keys('*');
    assert.ok(keys.filter((k) => k.startsWith(p1)).length >= 2);
    assert.ok(
      keys.every((k) => /^[A-Za-z0-9._:%-]+\{b:[A-Za-z0-9._%-]+\}:(admin|rt|ctr)$/.test(k)),
      keys.join(' '),
    );
  });

  test('user input never reaches a key unescaped', async () => {
    const p = prefix();
    const s = make({ prefix: p });
    const name = 'we*b:{x}';
    await s.load(name);
    await s.save(name, state(1, [{ name: 'http://h/a b', status: 'D' }], ['http://evil:1/*?{}']));
    const keys = await raw.keys(`${p}*`);
    assert.deepEqual(keys, [`${p}{b:we%2Ab%3A%7Bx%7D}:admin`]);
    const fields = await raw.hkeys(keys[0]!);
    assert.ok(
      fields.every((f) => /^[A-Za-z0-9._:%-]+$/.test(f)),
      fields.join(' '),
    );
    const back = await make({ prefix: p }).load(name);
    assert.deepEqual(back?.added, ['http://evil:1/*?{}']);
  });

  test('damaged records are ignored (with one warning) and healed by the next write', async () => {
    const p = prefix();
    const key = `${p}{b:web}:admin`;
    const good = formatRec(3, 'a', JSON.stringify({ name: 'http://w2', status: 'D' })).raw;
    await raw.hset(key, `w:${encodeName('http://w1')}`, 'garbage', `w:${encodeName('http://w2')}`, good);
    await raw.hset(key, `w:${encodeName('http://w3')}`, formatRec(4, 'a', '{"name":"http://w3","lbfactor":"big"}').raw);
    const warnings: string[] = [];
    const s = make({ prefix: p, warn: (m) => warnings.push(m) });
    const loaded = await s.load('web');
    assert.deepEqual(loaded?.workers, [{ name: 'http://w2', status: 'D' }]);
    assert.equal(warnings.filter((w) => w.includes('damaged')).length, 2);
    await s.save('web', state(0, [{ name: 'http://w1', status: 'S' }]));
    assert.match((await raw.hget(key, `w:${encodeName('http://w1')}`))!, /^\d+\|/);
    await s.load('web');
    assert.equal(warnings.filter((w) => w.includes('damaged')).length, 2, 'one warning per damaged field');
  });

  test('counters: unchanged ones are not rewritten; the others are read only once the manager asks', async () => {
    const p = prefix();
    const a = make({ prefix: p, instanceId: 'a', countersMs: 1 });
    const b = make({ prefix: p, instanceId: 'b', countersMs: 1 });
    await Promise.all([a.load('web'), b.load('web')]);
    const row = (n: number): InstanceCounters['workers'] => ({
      'http://w1': { elected: n, transferred: 0, read: 0, busy: 0 },
    });
    const key = `${p}{b:web}:ctr`;
    const stored = async (i: string): Promise<{ time: number } | undefined> => {
      const json = await raw.hget(key, i);
      return json === null ? undefined : (JSON.parse(json) as { time: number });
    };
    const t0 = Date.now();
    a.publishCounters('web', { instance: 'a', time: t0, workers: row(1) });
    b.publishCounters('web', { instance: 'b', time: t0, workers: row(5) });
    await until(async () => (await stored('a'))?.time === t0 && (await stored('b'))?.time === t0, 2000, 'rows');
    await new Promise((r) => setTimeout(r, 5));
    a.publishCounters('web', { instance: 'a', time: t0 + 1, workers: row(1) });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await stored('a'))?.time, t0, 'unchanged counters are not rewritten');
    // Nobody asked yet: b's row was never read by a.
    assert.deepEqual(
      a.counters('web').map((c) => c.instance),
      ['a'],
    );
    await new Promise((r) => setTimeout(r, 5));
    a.publishCounters('web', { instance: 'a', time: Date.now(), workers: row(2) });
    await until(() => a.counters('web').length === 2, 2000, "b's row on a");
    assert.deepEqual({ ...a.counters('web').find((c) => c.instance === 'b')?.workers }, row(5));
  });

  test('worker health states: written without waiting, read back, delivered to the others', async () => {
    const p = prefix();
    const a = make({ prefix: p, instanceId: 'a' });
    const b = make({ prefix: p, instanceId: 'b' });
    await Promise.all([a.load('web'), b.load('web')]);
    const got: [string, SharedWorkerState][] = [];
    b.watchWorkerStates('web', (w, s) => got.push([w, s]));
    const s: SharedWorkerState = {
      inError: true,
      errorTime: 1234,
      ejectionMs: 30_000,
      hcFailed: true,
      check: { ok: false, reason: 'status 500', time: 1200, instance: 'a' },
    };
    const t0 = performance.now();
    a.saveWorkerState('web', 'http://w1', s);
    assert.ok(performance.now() - t0 < 50, 'returns at once');
    await until(() => got.length === 1, 1000, 'the state');
    assert.deepEqual(got[0], ['http://w1', s]);
    const c = make({ prefix: p });
    await c.load('web');
    assert.deepEqual([...(await c.loadWorkerStates('web'))], [['http://w1', s]]);
  });

  test('Redis stopped (SIGSTOP, a hung server): requests are not slowed; queued writes land after SIGCONT', async (t) => {
    const p = prefix();
    const ups = await startUpstreams('a', 'b');
    t.after(() => stopAll(ups));
    const store = make({ prefix: p, instanceId: 'slow', commandTimeoutMs: 300 });
    const lb = balancer({ store, balancers: [{ name: 'web', mount: '/', members: ups.map((u) => ({ url: u.url })) }] });
    await lb.ready;
    const srv = await listen((req, res) => lb(req, res));
    t.after(async () => {
      await srv.close();
      await lb.close(100);
    });
    const b = lb.get('web')!;
    const w = b.workers[1]!;
    process.kill(redis.pid!, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 50));
      // The health state change goes to Redis in the background (and hangs there); requests go on.
      b.markError(w, 'test while Redis hangs');
      const times: number[] = [];
      for (let i = 0; i < 40; i++) {
        const t0 = performance.now();
        const r = await request(srv.base, '/x');
        times.push(performance.now() - t0);
        assert.equal(r.status, 200);
        assert.equal(r.from, 'a');
      }
      times.sort((x, y) => x - y);
      const p95 = times[Math.floor(times.length * 0.95)]!;
      assert.ok(p95 < 150, `p95 ${p95} ms`);
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
    await until(
      async () => (await raw.hget(`${p}{b:web}:rt`, encodeName(w.name)))?.includes('"e":true') ?? false,
      3000,
      'the write',
    );
  });
});
