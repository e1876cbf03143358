/**
 * The manager shows discovered groups and workers, and admin edits to a discovered worker survive its
 * address going away and coming back: in one process, and with the Redis store across instances and
 * a restart (real dnsmasq, real redis-server).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  balancer,
  FileStore,
  managerRouter,
  RedisStore,
  type BalancerMiddleware,
  type StateStore,
} from '../../lib/index.js';
import { discoveryOf } from '../../lib/discovery/discovery.js';
import { DISABLED } from '../../lib/model/status.js';
import { FakeClock } from '../support/clock.js';
import { listen, request, type Reply } from '../support/http.js';
import { docsSchema, validate } from '../manager/json-schema.js';
import { RedisServer, redisSkip } from '../redis/redis-server.js';
import { until } from '../redis/instances.js';
import { AddressBackend, Dnsmasq, commonPort, dnsmasqSkip } from './dnsmasq.js';

const skip = dnsmasqSkip();
const HOSTS = ['127.0.0.2', '127.0.0.3'];
const REFRESH = 1000;
const hostsFile = (...ips: string[]): string => ips.map((ip) => `${ip} api.test\n`).join('');

/** One balancer instance with its manager, on its own clock. */
class Instance {
  readonly clock = new FakeClock();
  lb!: BalancerMiddleware;
  base = '';
  #close: (() => Promise<void>) | undefined;

  async start(dns: Dnsmasq, port: number, store?: StateStore): Promise<this> {
    this.lb = balancer({
      clock: this.clock,
      logger: false,
      ...(store ? { store } : {}),
      balancers: [
        {
          name: 'app',
          mount: '/app',
          members: [{ discover: 'dns', name: 'api.test', port, family: 4, refresh: REFRESH, servers: [dns.server] }],
        },
      ],
    });
    const app = express();
    app.use('/balancer-manager', managerRouter(this.lb));
    app.use(this.lb);
    const srv = await listen(app);
    this.base = srv.base;
    this.#close = srv.close;
    await this.lb.ready;
    return this;
  }

  get b() {
    return this.lb.get('app')!;
  }

  async refresh(): Promise<void> {
    this.clock.advance(REFRESH);
    await discoveryOf(this.b)!.groups[0]!.refresh();
  }

  /** The manager's JSON API, same-origin, with the nonce. */
  async patch(worker: string, body: unknown): Promise<Reply> {
    return request(this.base, `/balancer-manager/api/balancers/app/workers/${encodeURIComponent(worker)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', origin: this.base, 'x-balancer-nonce': this.b.nonce },
      body: JSON.stringify(body),
    });
  }

  /** Removal happens once the worker is drained: wait for the event if it has not happened yet. */
  async refreshUntilGone(name: string): Promise<void> {
    await this.refresh();
    await until(() => !this.b.worker(name), 3000, `${name} removed`);
  }

  async stop(): Promise<void> {
    await this.#close?.();
    await this.lb.close(100);
  }
}

describe('discovered workers in the manager (real dnsmasq)', { skip, timeout: 30_000 }, () => {
  const dns = new Dnsmasq();
  const backends = HOSTS.map((h) => new AddressBackend(h));
  const one = new Instance();
  let port = 0;
  let w3 = '';

  before(async () => {
    port = await commonPort(HOSTS);
    for (const be of backends) await be.start(port);
    await dns.start(hostsFile(...HOSTS));
    await one.start(dns, port);
    w3 = `http://127.0.0.3:${port}`;
  });
  after(async () => {
    await one.stop();
    await dns.dispose();
    for (const be of backends) await be.stop();
  });

  it('the snapshot lists the group and marks its workers; it conforms to the documented schema', async () => {
    const r = await request(one.base, '/balancer-manager/api', { headers: { accept: 'application/json' } });
    const snap = JSON.parse(r.body) as {
      balancers: { discovery: unknown[]; workers: { name: string; discovered?: string }[]; members: unknown }[];
    };
    const schema = docsSchema();
    assert.deepEqual(validate(schema, schema, snap), []);
    const b = snap.balancers[0]!;
    assert.deepEqual(b.discovery, [
      {
        kind: 'dns',
        name: 'api.test',
        state: 'ok',
        lastResolution: new Date(one.clock.now()).toISOString(),
        nextRefresh: new Date(one.clock.now() + REFRESH).toISOString(),
        lastError: null,
        workers: [`http://127.0.0.2:${port}`, w3],
      },
    ]);
    assert.deepEqual(
      b.workers.map((w) => w.discovered),
      ['api.test', 'api.test'],
    );
    assert.deepEqual(b.members, { max: 0, used: 0, free: 0 });
    const page = (await request(one.base, '/balancer-manager')).body;
    assert.match(page, /<h3>Discovered members<\/h3>/);
    assert.match(page, /DNS <code>api\.test<\/code><\/td><td>ok<\/td>/);
    assert.equal(page.match(/\(discovered\)/g)?.length, 2);
  });

  it('edits to a discovered worker come back with its address', async () => {
    assert.equal((await one.patch(w3, { loadfactor: 7, flags: { D: true } })).status, 200);
    await dns.setHosts(hostsFile('127.0.0.2'));
    await one.refreshUntilGone(w3);
    await dns.setHosts(hostsFile(...HOSTS));
    await one.refresh();
    const w = one.b.worker(w3)!;
    assert.deepEqual([w.loadfactor, w.has(DISABLED), w.draining], [7, true, false]);
  });

  it('with a file store, edits saved while the address is gone survive a restart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'epb-disc-'));
    const file = path.join(dir, 'state.json');
    const first = await new Instance().start(dns, port, new FileStore(file));
    try {
      assert.equal((await first.patch(w3, { loadfactor: 5 })).status, 200);
      await dns.setHosts(hostsFile('127.0.0.2'));
      await first.refreshUntilGone(w3);
      // This save happens while the worker is gone: its edit must be in it.
      assert.equal((await first.patch(`http://127.0.0.2:${port}`, { loadfactor: 3 })).status, 200);
      await first.stop();
      await dns.setHosts(hostsFile(...HOSTS));
      const second = await new Instance().start(dns, port, new FileStore(file));
      assert.deepEqual(
        second.b.workers.map((w) => [w.name, w.loadfactor]),
        [
          [`http://127.0.0.2:${port}`, 3],
          [w3, 5],
        ],
      );
      await second.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe(
  'discovered workers with the Redis store (real dnsmasq, real redis-server)',
  { skip: skip ?? redisSkip() },
  () => {
    const dns = new Dnsmasq();
    const redis = new RedisServer();
    const backends = HOSTS.map((h) => new AddressBackend(h));
    const instances: Instance[] = [];
    const stores: RedisStore[] = [];
    let port = 0;
    let w3 = '';
    const start = async (id: string): Promise<Instance> => {
      const store = new RedisStore({ redis: redis.url, prefix: 'disc:', instanceId: id, resyncMs: 200 });
      stores.push(store);
      const inst = await new Instance().start(dns, port, store);
      instances.push(inst);
      return inst;
    };

    before(async () => {
      port = await commonPort(HOSTS);
      for (const be of backends) await be.start(port);
      await dns.start(hostsFile(...HOSTS));
      await redis.start();
      w3 = `http://127.0.0.3:${port}`;
    });
    after(async () => {
      for (const i of instances) await i.stop();
      for (const s of stores) await s.close();
      await redis.kill();
      await dns.dispose();
      for (const be of backends) await be.stop();
    });

    it('an edit on one instance reaches the other, survives the address going and coming back, and a restart', async () => {
      const a = await start('a');
      const b = await start('b');
      assert.equal((await a.patch(w3, { loadfactor: 9, flags: { D: true } })).status, 200);
      await until(() => b.b.worker(w3)?.loadfactor === 9, 3000, 'the edit on instance b');
      assert.equal(b.b.worker(w3)!.has(DISABLED), true);

      await dns.setHosts(hostsFile('127.0.0.2'));
      await a.refreshUntilGone(w3);
      await b.refreshUntilGone(w3);
      // Another edit saves the balancer while the worker is gone: its kept edits are saved with it.
      assert.equal((await a.patch(`http://127.0.0.2:${port}`, { loadfactor: 2 })).status, 200);
      await until(() => b.b.worker(`http://127.0.0.2:${port}`)?.loadfactor === 2, 3000, 'the second edit on b');

      await dns.setHosts(hostsFile(...HOSTS));
      await a.refresh();
      await b.refresh();
      for (const inst of [a, b]) {
        const w = inst.b.worker(w3)!;
        assert.deepEqual([w.loadfactor, w.has(DISABLED)], [9, true]);
      }

      // A new instance (a restart) finds the edit in Redis.
      const c = await start('c');
      const w = c.b.worker(w3)!;
      assert.deepEqual([w.loadfactor, w.has(DISABLED)], [9, true]);
    });
  },
);
