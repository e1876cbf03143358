/**
 * Members from A records, against a real dnsmasq on loopback: each address is a real backend on its
 * own 127.0.0.x. Time is the injected clock: advancing it by one `refresh` runs exactly one lookup.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { balancer, type BalancerMiddleware } from '../../lib/middleware.js';
import { discoveryOf } from '../../lib/discovery/discovery.js';
import type { DiscoveryGroup } from '../../lib/discovery/group.js';
import { routeFor } from '../../lib/discovery/members.js';
import { healthOf } from '../../lib/health/monitor.js';
import type { Balancer } from '../../lib/balancer/balancer.js';
import type { WorkerEvent } from '../../lib/balancer/events.js';
import { FakeClock } from '../support/clock.js';
import { listen, request, sequence } from '../support/http.js';
import { AddressBackend, Dnsmasq, commonPort, dnsmasqSkip } from './dnsmasq.js';

const skip = dnsmasqSkip();
const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const REFRESH = 1000;
const GRACE = 2000;
const hostsFile = (...ips: string[]): string => ips.map((ip) => `${ip} api.test\n`).join('');

describe('DNS discovery (A records, real dnsmasq)', { skip, timeout: 30_000 }, () => {
  const dns = new Dnsmasq();
  const backends = HOSTS.map((h) => new AddressBackend(h));
  const clock = new FakeClock();
  const said: string[] = [];
  let port = 0;
  let lb: BalancerMiddleware;
  let b: Balancer;
  let group: DiscoveryGroup;
  let front: { base: string; close: () => Promise<void> };

  before(async () => {
    port = await commonPort(HOSTS);
    for (const be of backends) await be.start(port);
    await dns.start(hostsFile('127.0.0.2', '127.0.0.3'));
    lb = balancer({
      clock,
      logger: { warn: (m) => said.push(`warn ${m}`), info: (m) => said.push(`info ${m}`), error: (m) => said.push(m) },
      balancers: [
        {
          name: 'app',
          mount: '/app',
          members: [
            {
              discover: 'dns',
              name: 'api.test',
              port,
              family: 4,
              refresh: REFRESH,
              grace: GRACE,
              servers: [dns.server],
              hcmethod: 'TCP',
              hcinterval: '10s',
            },
          ],
        },
      ],
    });
    await lb.ready;
    b = lb.get('app')!;
    group = discoveryOf(b)!.groups[0]!;
    front = await listen(lb);
  });

  after(async () => {
    await front.close();
    await lb.close(1000);
    await dns.dispose();
    for (const be of backends) await be.stop();
  });

  /** One refresh period passes: its lookup runs; resolves once it has been applied. */
  async function oneRefresh(): Promise<void> {
    clock.advance(REFRESH);
    await group.refresh();
  }

  const names = (): string[] => b.workers.map((w) => w.name);
  const url = (ip: string): string => `http://${ip}:${port}`;

  it('builds one worker per address before the first request, with a route from address:port', () => {
    assert.deepEqual(names(), [url('127.0.0.2'), url('127.0.0.3')]);
    assert.deepEqual(
      b.workers.map((w) => [w.route, w.discovered]),
      [
        [routeFor('127.0.0.2', port), 'api.test'],
        [routeFor('127.0.0.3', port), 'api.test'],
      ],
    );
    assert.equal(group.state, 'ok');
    assert.equal(group.nextRefresh, clock.now() + REFRESH);
    assert.equal(b.maxAttempts, 1);
  });

  it('an added address gets traffic within one refresh, with its health check started', async () => {
    await dns.setHosts(hostsFile('127.0.0.2', '127.0.0.3', '127.0.0.4'));
    const added: string[] = [];
    b.on('worker-added', (e: WorkerEvent) => added.push(e.worker.name));
    await oneRefresh();
    assert.deepEqual(added, [url('127.0.0.4')]);
    const w = b.worker(url('127.0.0.4'))!;
    assert.ok(healthOf(b)!.checker(w), 'its health check is running');
    const seen = await sequence(front.base, 30);
    assert.deepEqual(
      HOSTS.map((h) => seen.filter((x) => x === h).length),
      [10, 10, 10],
    );
  });

  it('a removed address is drained (its request in flight completes), then removed; no request fails', async () => {
    const gone = backends[1]!;
    const w = b.worker(url('127.0.0.3'))!;
    // A request kept open on the worker whose address is about to go.
    const arrived = gone.hold();
    const pending = (async () => {
      for (;;) {
        const r = await request(front.base, '/app/slow');
        if (r.from === '127.0.0.3') return r;
      }
    })();
    await arrived;
    const removed = new Promise<WorkerEvent>((resolve) => b.once('worker-removed', resolve));
    await dns.setHosts(hostsFile('127.0.0.2', '127.0.0.4'));
    await oneRefresh();
    assert.equal(w.draining, true, 'drained, not removed, while a request is in flight');
    assert.equal(lb.socketCounts().has(w.name), true);
    assert.deepEqual(names(), [url('127.0.0.2'), url('127.0.0.3'), url('127.0.0.4')]);
    const during = await sequence(front.base, 20);
    assert.deepEqual(
      during.filter((x) => x !== '127.0.0.2' && x !== '127.0.0.4'),
      [],
    );
    gone.release();
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal((await removed).worker, w);
    assert.deepEqual(names(), [url('127.0.0.2'), url('127.0.0.4')]);
    assert.equal(healthOf(b)!.checker(w), undefined, 'its health check stopped');
    assert.equal(lb.socketCounts().has(w.name), false, 'its connection pool entry is gone');
    assert.equal(b.maxAttempts, 1);
  });

  it('with the DNS server stopped, traffic continues on the last set; the outage is said once', async () => {
    said.length = 0;
    await dns.stop();
    await oneRefresh();
    assert.equal(group.state, 'failing');
    assert.equal(group.lastError, 'ECONNREFUSED');
    await oneRefresh();
    assert.deepEqual(names(), [url('127.0.0.2'), url('127.0.0.4')]);
    const seen = await sequence(front.base, 10);
    assert.deepEqual(seen.sort(), [...Array<string>(5).fill('127.0.0.2'), ...Array<string>(5).fill('127.0.0.4')]);
    assert.deepEqual(said, [
      `warn express-proxy-balancer: DNS lookup of balancer://app api.test failed (ECONNREFUSED): keeping its last 2 worker(s)`,
    ]);
    await dns.start(hostsFile('127.0.0.2', '127.0.0.4'), dns.port);
    await oneRefresh();
    assert.equal(group.state, 'ok');
    assert.equal(said[1], 'info express-proxy-balancer: balancer://app api.test resolves to 2 address(es)');
  });

  it('an empty answer keeps the last set for the grace period, then drains and removes it', async () => {
    await dns.setHosts('');
    await oneRefresh();
    assert.equal(group.state, 'empty');
    assert.deepEqual(names(), [url('127.0.0.2'), url('127.0.0.4')]);
    assert.equal((await request(front.base, '/app/x')).status, 200);
    // Still inside the grace period (1 of 2 s): kept.
    await oneRefresh();
    assert.deepEqual(names(), [url('127.0.0.2'), url('127.0.0.4')]);
    await oneRefresh();
    assert.deepEqual(names(), []);
    assert.equal((await request(front.base, '/app/x')).status, 503);
    await dns.setHosts(hostsFile('127.0.0.3'));
    await oneRefresh();
    assert.deepEqual(names(), [url('127.0.0.3')]);
    assert.equal((await request(front.base, '/app/x')).from, '127.0.0.3');
  });

  it('with slow start configured, a discovered worker ramps up from the floor', async () => {
    const clock2 = new FakeClock();
    const lb2 = balancer({
      clock: clock2,
      logger: false,
      slowstart: { window: '10s', minWeightPercent: 10 },
      balancers: [
        {
          name: 'slow',
          mount: '/slow',
          members: [{ discover: 'dns', name: 'api.test', port, family: 4, refresh: REFRESH, servers: [dns.server] }],
        },
      ],
    });
    try {
      await lb2.ready;
      const w = lb2.get('slow')!.worker(url('127.0.0.3'))!;
      assert.deepEqual([w.ramp?.start, w.weight, w.lbfactor], [clock2.now(), 10, 100]);
    } finally {
      await lb2.close(100);
    }
  });
});
