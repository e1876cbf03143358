// Several balancer instances in separate processes sharing state through a real redis-server.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { request } from '../support/http.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { HC_FAIL, DISABLED, STOPPED } from '../../lib/model/status.js';
import { encodeName } from '../../lib/store/redis/keys.js';
import { RedisServer, redisSkip } from './redis-server.js';
import { Instance, managerPatch, until, type InstanceConfig, type InstanceState } from './instances.js';
import { docsSchema, validate } from '../manager/json-schema.js';

const skip = redisSkip();
let prefixes = 0;

async function startAll(t: TestContext, configs: InstanceConfig[]): Promise<Instance[]> {
  const list: Instance[] = [];
  t.after(() => Promise.all(list.map((i) => i.stop())));
  for (const c of configs) list.push(await Instance.start(c));
  return list;
}

function worker(s: InstanceState, name: string): InstanceState['workers'][number] {
  const w = s.workers.find((x) => x.name === name);
  assert.ok(w, `worker ${name}`);
  return w;
}

describe('cluster on Redis (separate processes)', { skip }, () => {
  const redis = new RedisServer();
  let ups: Upstream[] = [];

  before(async () => {
    await redis.start();
    ups = await startUpstreams('a', 'b', 'c');
  });
  after(async () => {
    await stopAll(ups);
    await redis.kill();
  });

  function config(id: string, prefix: string, extra: Partial<InstanceConfig> = {}): InstanceConfig {
    const members = ups.map((u) => ({ url: u.url }));
    return { redis: redis.url, prefix, instanceId: id, members, saveWaitMs: 300, ...extra };
  }

  function freshPrefix(): string {
    return `t${process.pid}-${++prefixes}:`;
  }

  // How fast the edit spreads is measured by `npm run measure:redis` (test/redis/measure.ts), not here.
  test('disable on one instance: once every instance reports it, no traffic to that worker from any instance', async (t) => {
    const prefix = freshPrefix();
    const insts = await startAll(t, [
      config('i1', prefix, { events: true }),
      config('i2', prefix, { events: true }),
      config('i3', prefix, { events: true }),
    ]);
    const [a, ...others] = insts as [Instance, Instance, Instance];
    const target = ups[2]!;
    const seen = others.map(
      (inst) =>
        new Promise<void>((resolve) => {
          const off = inst.onState((e) => {
            if (e.worker === target.url && e.to.includes('D')) {
              off();
              resolve();
            }
          });
        }),
    );
    const reply = await managerPatch(a, target.url, { flags: { D: true } });
    assert.equal(reply.status, 200, reply.body);
    await Promise.all(seen);
    target.hits.length = 0;
    const replies = await Promise.all(
      insts.flatMap((inst) => Array.from({ length: 15 }, () => request(inst.base, '/app/x'))),
    );
    assert.ok(replies.every((r) => r.status === 200));
    assert.equal(target.hits.length, 0, 'the disabled worker got traffic');
    assert.ok(replies.some((r) => r.from === 'a') && replies.some((r) => r.from === 'b'));
    for (const inst of insts) assert.ok(worker(await inst.state(), target.url).status & DISABLED);
  });

  test('error state with its time, ejections and health-check results are shared', async (t) => {
    const prefix = freshPrefix();
    const checked = ups.map((u, i) =>
      i === 1 ? { url: u.url, hcmethod: 'GET', hcinterval: '100ms', hcuri: '/health' } : { url: u.url },
    );
    // Only instance 1 runs a health check on worker b: the others learn the result from it.
    const [a, b] = (await startAll(t, [config('h1', prefix, { members: checked }), config('h2', prefix)])) as [
      Instance,
      Instance,
    ];

    const marked = worker(await a.call<InstanceState>('markError', { worker: ups[0]!.url }), ups[0]!.url);
    assert.ok(marked.inError);
    await until(async () => worker(await b.state(), ups[0]!.url).inError, 1000, 'E on the other instance');
    assert.equal(worker(await b.state(), ups[0]!.url).errorTime, marked.errorTime, 'the same error time');

    await b.call('eject', { worker: ups[2]!.url, ms: 45_000 });
    await until(
      async () => worker(await a.state(), ups[2]!.url).ejectionMs === 45_000,
      1000,
      'the ejection on instance 1',
    );
    assert.ok(worker(await a.state(), ups[2]!.url).inError);

    ups[1]!.mode = { status: 500 };
    try {
      await until(async () => (worker(await a.state(), ups[1]!.url).status & HC_FAIL) !== 0, 2000, 'C on instance 1');
      await until(async () => (worker(await b.state(), ups[1]!.url).status & HC_FAIL) !== 0, 500, 'C on instance 2');
    } finally {
      ups[1]!.mode = 'ok';
    }
    await until(
      async () => (worker(await b.state(), ups[1]!.url).status & HC_FAIL) === 0,
      2000,
      'C cleared on instance 2',
    );
  });

  test('Redis killed mid-traffic: no failed request; state converges once Redis is back', async (t) => {
    const prefix = freshPrefix();
    const [a, b] = (await startAll(t, [config('o1', prefix), config('o2', prefix)])) as [Instance, Instance];
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const loop = async (inst: Instance): Promise<void> => {
      while (running) {
        try {
          const r = await request(inst.base, '/app/load', { timeoutMs: 3000 });
          if (r.status === 200) ok++;
          else failures.push(`${inst.config.instanceId}: ${r.status} ${r.body.slice(0, 80)}`);
        } catch (err) {
          failures.push(`${inst.config.instanceId}: ${(err as Error).message}`);
        }
      }
    };
    const loops = [a, a, a, b, b, b].map((inst) => loop(inst));
    try {
      await new Promise((r) => setTimeout(r, 300));
      await redis.kill();
      await new Promise((r) => setTimeout(r, 300));
      // Changes made while Redis is down: applied where they were made, queued, shared later (so 503, not 500).
      const edit = await managerPatch(a, ups[2]!.url, { flags: { D: true } });
      assert.equal(edit.status, 503, edit.body);
      assert.match(edit.body, /"code": "ERR_MANAGER_STORE_QUEUED"/);
      const marked = worker(await b.call<InstanceState>('markError', { worker: ups[1]!.url }), ups[1]!.url);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(worker(await b.state(), ups[2]!.url).status & DISABLED, 0, 'not shared while Redis is down');
      const during = ok;
      await redis.start(redis.port);
      await until(
        async () => (worker(await b.state(), ups[2]!.url).status & DISABLED) !== 0,
        5000,
        'the disable on instance 2',
      );
      await until(
        async () => worker(await a.state(), ups[1]!.url).errorTime === marked.errorTime,
        5000,
        'E on instance 1',
      );
      assert.ok(during > 0);
    } finally {
      running = false;
      await Promise.all(loops);
    }
    assert.deepEqual(failures, []);
    assert.ok(ok > 50, `only ${ok} requests`);
    const warnings = (await a.state()).warnings;
    assert.equal(warnings.filter((w) => w.includes('is unavailable')).length, 1, warnings.join('\n'));
    assert.equal(warnings.filter((w) => w.includes('reachable again')).length, 1, warnings.join('\n'));
    assert.equal((await a.state()).connected, true);
  });

  test('concurrent conflicting edits converge on the same winner everywhere (version, then instance id)', async (t) => {
    const prefix = freshPrefix();
    const insts = (await startAll(t, [config('v1', prefix), config('v2', prefix), config('v3', prefix)])) as [
      Instance,
      Instance,
      Instance,
    ];
    const client = new Redis({ port: redis.port, lazyConnect: true });
    await client.connect();
    t.after(() => client.quit());
    const target = ups[0]!.url;
    const field = `w:${encodeName(target)}`;
    for (let round = 0; round < 10; round++) {
      const [x, y] = [insts[round % 3]!, insts[(round + 1) % 3]!];
      const fx = 2 + round * 2;
      const fy = 3 + round * 2;
      const replies = await Promise.all([
        managerPatch(x, target, { loadfactor: fx }),
        managerPatch(y, target, { loadfactor: fy }),
      ]);
      for (const r of replies) assert.equal(r.status, 200, r.body);
      await until(
        async () => {
          const factors = await Promise.all(insts.map(async (i) => worker(await i.state(), target).lbfactor));
          return factors.every((f) => f === factors[0]);
        },
        2000,
        'agreement',
      );
      const raw = await client.hget(`${prefix}{b:app}:admin`, field);
      const m = /^(\d+)\|([^|]+)\|(.*)$/.exec(raw ?? '');
      assert.ok(m, `record ${raw}`);
      const stored = (JSON.parse(m[3]!) as { lbfactor: number }).lbfactor;
      assert.ok(stored === fx * 100 || stored === fy * 100, `stored ${stored}`);
      for (const i of insts) assert.equal(worker(await i.state(), target).lbfactor, stored);
    }
  });

  test('the manager shows each instance and sums elected and byte counters', async (t) => {
    const prefix = freshPrefix();
    const [a, b] = (await startAll(t, [config('m1', prefix), config('m2', prefix)])) as [Instance, Instance];
    for (let i = 0; i < 9; i++) assert.equal((await request(a.base, '/app/x')).status, 200);
    for (let i = 0; i < 6; i++) assert.equal((await request(b.base, '/app/x')).status, 200);
    interface Snap {
      cluster?: { instance: string; connected: boolean; instances: string[]; store?: string };
      balancers: {
        workers: { elected: number; read: number; instances?: { instance: string; elected: number }[] }[];
      }[];
    }
    let snap: Snap | undefined;
    await until(
      async () => {
        snap = JSON.parse((await request(a.base, '/balancer-manager/api')).body) as Snap;
        const total = snap.balancers[0]!.workers.reduce((n, w) => n + w.elected, 0);
        return total === 15;
      },
      4000,
      'summed counters',
    );
    assert.deepEqual(snap!.cluster, {
      instance: 'm1',
      connected: true,
      instances: ['m1', 'm2'],
      store: `redis://127.0.0.1:${redis.port}`,
    });
    const schema = docsSchema();
    assert.deepEqual(validate(schema, schema, snap), [], 'the shared-store snapshot matches docs/manager.md');
    for (const w of snap!.balancers[0]!.workers) {
      assert.deepEqual(
        w.instances!.map((r) => r.instance),
        ['m1', 'm2'],
      );
      assert.equal(
        w.elected,
        w.instances!.reduce((n, r) => n + r.elected, 0),
      );
    }
    const page = await request(a.base, '/balancer-manager/');
    assert.match(page.body, /Shared by 2 instances/);
    assert.match(
      page.body,
      new RegExp(`state store connected \\(<code>redis://127\\.0\\.0\\.1:${redis.port}</code>\\)`),
    );
    assert.match(page.body, /<table class="instances">/);
  });

  test('start-up with Redis unreachable: serves with a warning, syncs when Redis appears; strict refuses', async (t) => {
    const prefix = freshPrefix();
    const late = new RedisServer();
    await late.start();
    const port = late.port;
    await late.kill();
    t.after(() => late.kill());
    const cfg = { ...config('s1', prefix), redis: `redis://127.0.0.1:${port}` };
    await assert.rejects(
      Instance.start({ ...cfg, instanceId: 's0', strict: true }),
      /unreachable at start-up \(strict\)/,
    );
    const [a] = (await startAll(t, [cfg])) as [Instance];
    assert.equal((await request(a.base, '/app/x')).status, 200);
    assert.match((await a.state()).warnings.join('\n'), /unreachable at start-up/);
    await late.start(port);
    const [b] = (await startAll(t, [{ ...cfg, instanceId: 's2' }])) as [Instance];
    await until(async () => (await a.state()).connected === true, 3000, 'instance 1 connected');
    assert.equal((await managerPatch(b, ups[0]!.url, { flags: { S: true } })).status, 200);
    await until(async () => (worker(await a.state(), ups[0]!.url).status & STOPPED) !== 0, 1000, 'S on instance 1');
  });
});
