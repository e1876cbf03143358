// RedisStore on a real Redis Cluster (three masters, three replicas, made by `redis-cli --cluster
// create` on loopback): keys of one balancer in one slot, edits both ways, a master failing over.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, Redis } from 'ioredis';
import { RedisStore } from '../../lib/index.js';
import type { PersistedBalancer } from '../../lib/index.js';
import { keysFor } from '../../lib/store/redis/keys.js';
import { DISABLED, STOPPED } from '../../lib/model/status.js';
import { request } from '../support/http.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { redisSkip } from './redis-server.js';
import { Instance, managerPatch, trafficLoops, until, type InstanceState } from './instances.js';
import { RedisClusterSet, withRedis } from './ha.js';

const skip = redisSkip();

function status(s: InstanceState, name: string): number {
  const w = s.workers.find((x) => x.name === name);
  assert.ok(w, `worker ${name}`);
  return w.status;
}

function state(version: number, workers: PersistedBalancer['workers']): PersistedBalancer {
  return { version, lbmethod: 'byrequests', timeoutMs: 0, nofailover: false, stickysession: null, workers, added: [] };
}

describe('RedisStore options naming a cluster', () => {
  test('a client object the store does not know, or an empty node list, is refused', () => {
    assert.throws(() => new RedisStore({ redis: { cluster: [] } }), /cluster must be a non-empty list of nodes/);
    assert.throws(() => new RedisStore({ redis: { cluster: ['nohost'] } }), /cluster node "nohost" is not/);
    const fake = { sendCommand: () => undefined } as unknown as Record<string, unknown>;
    assert.throws(() => new RedisStore({ redis: fake }), /a client object the store does not know/);
  });

  test('an ioredis Cluster or Redis object is read for its nodes and options, never taken for 127.0.0.1:6379', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 7001 }, '127.0.0.1:7002'], { lazyConnect: true });
    assert.equal(
      new RedisStore({ redis: cluster }).target,
      'Redis Cluster (start-up nodes 127.0.0.1:7001, 127.0.0.1:7002)',
    );
    const single = new Redis({ host: '127.0.0.1', port: 7003, db: 2, lazyConnect: true });
    assert.equal(new RedisStore({ redis: single }).target, 'redis://127.0.0.1:7003/2');
    const sentinel = new Redis({ sentinels: [{ host: '127.0.0.1', port: 7004 }], name: 'grp', lazyConnect: true });
    assert.equal(new RedisStore({ redis: sentinel }).target, 'Redis Sentinel group "grp" (master not yet known)');
    // Nothing was connected: the objects are only read.
    assert.deepEqual([cluster.status, single.status, sentinel.status], ['wait', 'wait', 'wait']);
  });

  test("a balancer's keys share one hash tag, so they live in one slot", () => {
    const k = keysFor('fleet:');
    const tags = [k.admin('a:b'), k.runtime('a:b'), k.counters('a:b')].map((key) => /\{([^}]*)\}/.exec(key)?.[1]);
    assert.deepEqual(tags, ['b:a%3Ab', 'b:a%3Ab', 'b:a%3Ab']);
  });
});

describe('RedisStore on a real Redis Cluster', { skip }, () => {
  const set = new RedisClusterSet();
  let ups: Upstream[] = [];
  const insts: Instance[] = [];
  let seed = '';

  before(async () => {
    ups = await startUpstreams('a', 'b', 'c');
    await set.start();
    seed = `127.0.0.1:${set.nodes[0]!.port}`;
  });
  after(async () => {
    await Promise.all(insts.map((i) => i.stop()));
    await stopAll(ups);
    await set.stop();
  });

  test('an ioredis Cluster object as redis: the store writes, reads back and is connected', async (t) => {
    const given = new Cluster([{ host: '127.0.0.1', port: set.nodes[1]!.port }], { lazyConnect: true });
    const a = new RedisStore({ redis: given, prefix: 'obj:', instanceId: 'x1', warn: () => undefined });
    const b = new RedisStore({ redis: { cluster: [seed] }, prefix: 'obj:', instanceId: 'x2', warn: () => undefined });
    t.after(() => Promise.all([a.close(), b.close()]));
    await Promise.all([a.load('web'), b.load('web')]);
    const heard: PersistedBalancer[] = [];
    b.watch('web', (s) => heard.push(s));
    await a.save('web', state(1, [{ name: 'http://w1', status: 'D' }]));
    await until(() => heard.length > 0, 3000, 'the edit on the other store');
    assert.deepEqual(heard[0]!.workers, [{ name: 'http://w1', status: 'D' }]);
    assert.deepEqual([a.connected, b.connected], [true, true]);
    assert.equal(given.status, 'wait', 'the object passed in is left alone');
    const slots = await withRedis(set.nodes[0]!.port, (r) =>
      Promise.all(['obj:{b:web}:admin', 'obj:{b:web}:rt', 'obj:{b:web}:ctr'].map((k) => r.cluster('KEYSLOT', k))),
    );
    assert.equal(new Set(slots).size, 1);
  });

  test('two instances: edits both ways; the master of their slot killed under traffic fails over', async (t) => {
    const members = ups.map((u) => ({ url: u.url }));
    for (const id of ['c1', 'c2']) {
      insts.push(
        await Instance.start({
          redis: { cluster: [seed] },
          prefix: 'cl:',
          instanceId: id,
          members,
          saveWaitMs: 20_000,
        }),
      );
    }
    const [a, b] = insts as [Instance, Instance];
    await until(async () => (await a.state()).connected === true && (await b.state()).connected === true, 5000);
    const snap = JSON.parse((await request(a.base, '/balancer-manager/api')).body) as { cluster: { store: string } };
    assert.equal(snap.cluster.store, `Redis Cluster (start-up nodes ${seed})`);

    // Each instance's edit reaches the other (the keys of one balancer are in one slot).
    assert.equal((await managerPatch(a, ups[0]!.url, { flags: { S: true } })).status, 200);
    assert.equal((await managerPatch(b, ups[1]!.url, { flags: { D: true } })).status, 200);
    await until(async () => (status(await b.state(), ups[0]!.url) & STOPPED) !== 0, 5000, 'S on instance 2');
    await until(async () => (status(await a.state(), ups[1]!.url) & DISABLED) !== 0, 5000, 'D on instance 1');

    const traffic = trafficLoops([a, a, b, b]);
    try {
      const master = await set.masterOf('cl:{b:app}:admin');
      const killedAt = performance.now();
      await set.node(master).kill();
      // Made while the cluster promotes the replica: retried until stored.
      const during = await managerPatch(a, ups[1]!.url, { flags: { D: false } }, 30_000);
      assert.equal(during.status, 200, during.body);
      const storedAt = performance.now();
      const promoted = await set.masterOf('cl:{b:app}:admin');
      assert.notEqual(promoted, master);
      assert.equal((await managerPatch(b, ups[2]!.url, { loadfactor: 3 })).status, 200);
      const sentAt = performance.now();
      await until(async () => (await a.state()).workers.find((w) => w.name === ups[2]!.url)?.lbfactor === 300, 5000);
      t.diagnostic(
        `edit during the failover stored ${(storedAt - killedAt).toFixed(0)} ms after the kill; ` +
          `an edit after it seen by the other instance in ${(performance.now() - sentAt).toFixed(1)} ms`,
      );
      await until(async () => (status(await b.state(), ups[1]!.url) & DISABLED) === 0, 5000, 'D cleared on instance 2');
      assert.ok(status(await a.state(), ups[0]!.url) & STOPPED, 'the edit from before the failover');
    } finally {
      await traffic.stop();
    }
    assert.deepEqual(traffic.failures, []);
    assert.ok(traffic.ok() > 0);
    for (const inst of [a, b]) {
      const s = await inst.state();
      assert.equal(s.connected, true);
      assert.ok(
        s.warnings.every((w) => w.startsWith(`Redis Cluster (start-up nodes ${seed})`)),
        s.warnings.join('\n'),
      );
    }
  });
});
