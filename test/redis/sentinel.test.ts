// RedisStore through Redis Sentinel (a master, a replica, three sentinels, all real redis-server
// processes on loopback): the master is SIGKILLed under traffic and the replica promoted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisStore } from '../../lib/index.js';
import { parseRec } from '../../lib/store/redis/records.js';
import { encodeName } from '../../lib/store/redis/keys.js';
import { DISABLED, STOPPED } from '../../lib/model/status.js';
import { request } from '../support/http.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { redisSkip } from './redis-server.js';
import { Instance, managerPatch, trafficLoops, until, type InstanceState } from './instances.js';
import { SentinelSet, withRedis } from './ha.js';

const skip = redisSkip();

function status(s: InstanceState, name: string): number {
  const w = s.workers.find((x) => x.name === name);
  assert.ok(w, `worker ${name}`);
  return w.status;
}

describe('RedisStore through Redis Sentinel', { skip }, () => {
  const set = new SentinelSet();
  let ups: Upstream[] = [];
  const insts: Instance[] = [];

  before(async () => {
    ups = await startUpstreams('a', 'b', 'c');
    await set.start();
  });
  after(async () => {
    await Promise.all(insts.map((i) => i.stop()));
    await stopAll(ups);
    await set.stop();
  });

  test('options without a group name are refused, naming what is missing', () => {
    assert.throws(
      () => new RedisStore({ redis: { sentinels: [{ host: '127.0.0.1', port: 1 }] } }),
      /Sentinel options need sentinels \(a non-empty list\) and name/,
    );
    assert.throws(() => new RedisStore({ redis: { sentinels: [], name: 'm' } }), /Sentinel options need/);
  });

  test('master killed under traffic: no failed request, no lost edit, the edit made during the switch is stored', async (t) => {
    const members = ups.map((u) => ({ url: u.url }));
    const config = (id: string) => ({
      redis: set.options,
      prefix: 'sen:',
      instanceId: id,
      members,
      saveWaitMs: 20_000,
    });
    for (const id of ['s1', 's2']) insts.push(await Instance.start(config(id)));
    const [a, b] = insts as [Instance, Instance];
    const oldMaster = `127.0.0.1:${set.master.port}`;
    const newMaster = `127.0.0.1:${set.replica.port}`;
    const group = `Redis Sentinel group "mymaster"`;
    await until(async () => (await a.state()).connected === true && (await b.state()).connected === true, 5000);
    assert.equal((await a.state()).target, `${group} (master ${oldMaster})`);
    const snap = JSON.parse((await request(a.base, '/balancer-manager/api')).body) as { cluster: { store: string } };
    assert.equal(snap.cluster.store, `${group} (master ${oldMaster})`);

    const traffic = trafficLoops([a, a, b, b]);
    try {
      // Acknowledged just before the master dies (possibly not yet replicated).
      assert.equal((await managerPatch(a, ups[0]!.url, { flags: { S: true } })).status, 200);
      const killedAt = performance.now();
      await set.master.kill();
      // Made as the sentinels switch: retried until stored, so the answer is 200.
      const during = await managerPatch(b, ups[1]!.url, { flags: { D: true } }, 30_000);
      assert.equal(during.status, 200, during.body);
      const storedAt = performance.now();
      await until(
        async () => (await set.masterPort()) === set.replica.port,
        10_000,
        'the sentinels to name the replica',
      );

      // After the promotion, an edit on either side reaches the other.
      const after = await managerPatch(a, ups[2]!.url, { loadfactor: 7 });
      assert.equal(after.status, 200, after.body);
      const sentAt = performance.now();
      await until(async () => (await b.state()).workers.find((w) => w.name === ups[2]!.url)?.lbfactor === 700, 5000);
      t.diagnostic(
        `edit during the switch stored ${(storedAt - killedAt).toFixed(0)} ms after the kill; ` +
          `an edit after it seen by the other instance in ${(performance.now() - sentAt).toFixed(1)} ms`,
      );
      await until(async () => (status(await a.state(), ups[1]!.url) & DISABLED) !== 0, 5000, 'D on instance 1');
      assert.ok(status(await b.state(), ups[0]!.url) & STOPPED, 'the edit from before the failover');
    } finally {
      await traffic.stop();
    }
    assert.deepEqual(traffic.failures, []);
    assert.ok(traffic.ok() > 0);

    // The new master holds every acknowledged edit.
    const stored = await withRedis(set.replica.port, (r) => r.hgetall('sen:{b:app}:admin'));
    const rec = (i: number) =>
      JSON.parse(parseRec(stored[`w:${encodeName(ups[i]!.url)}`]!)!.json) as { status: string; lbfactor: number };
    assert.match(rec(0).status, /S/);
    assert.match(rec(1).status, /D/);
    assert.equal(rec(2).lbfactor, 700);

    // Messages and the manager name the group and the master now serving it.
    for (const inst of [a, b]) {
      const s = await inst.state();
      assert.equal(s.target, `${group} (master ${newMaster})`);
      assert.ok(
        s.warnings.every((w) => w.startsWith(group) && !w.includes(':6379')),
        s.warnings.join('\n'),
      );
    }
  });

  // Runs last: it leaves the group without a master.
  test('no master for longer than saveWaitMs: the edit is answered with an error naming the group', async (t) => {
    const warnings: string[] = [];
    const store = new RedisStore({
      redis: set.options,
      prefix: 'sen2:',
      saveWaitMs: 300,
      warn: (m) => warnings.push(m),
    });
    t.after(() => store.close());
    const base = {
      version: 1,
      lbmethod: 'byrequests',
      timeoutMs: 0,
      nofailover: false,
      stickysession: null,
      added: [],
    };
    await store.load('app');
    const master = await set.masterPort();
    assert.equal(store.target, `Redis Sentinel group "mymaster" (master 127.0.0.1:${master})`);
    await set.replica.kill();
    await set.master.kill();
    await assert.rejects(
      store.save('app', { ...base, workers: [{ name: 'http://w1', status: 'D' }] }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_REDIS_UNAVAILABLE');
        assert.equal((err as Error & { queued?: boolean }).queued, true);
        assert.match(
          err.message,
          /^Redis Sentinel group "mymaster" \(master 127\.0\.0\.1:\d+\) did not store the change within 300 ms .*: it is applied on this instance and queued/,
        );
        return true;
      },
    );
    assert.ok(
      warnings.length > 0 && warnings.every((w) => w.startsWith('Redis Sentinel group "mymaster"')),
      warnings.join('\n'),
    );
  });
});
