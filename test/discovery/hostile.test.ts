/**
 * Hostile DNS answers are bounded and never crash: a fuzz of the answer → workers path with a fixed
 * seed, and a real dnsmasq answering too many addresses (over TCP) and SRV records with port 0, an
 * empty target and the largest weight.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../lib/config/validate.js';
import { MAX_ENDPOINTS, bound, type Endpoint } from '../../lib/discovery/resolver.js';
import { membersFor } from '../../lib/discovery/members.js';
import { balancer, type BalancerMiddleware } from '../../lib/middleware.js';
import { FakeClock, seededRandom } from '../support/clock.js';
import { discoveryOf } from '../../lib/discovery/discovery.js';
import { Dnsmasq, dnsmasqSkip } from './dnsmasq.js';

const skip = dnsmasqSkip();

function specOf(member: Record<string, unknown>) {
  return validateConfig({ balancers: [{ name: 'a', mount: '/a', members: [member] }] }).balancers[0]!.discovery[0]!;
}

describe('hostile answers, fuzzed', () => {
  const rnd = seededRandom(22);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const garbageNumber = (): number =>
    pick([0, -1, 1, 80, 65_535, 65_536, 1e9, NaN, Infinity, -Infinity, 1.5, Math.floor(rnd() * 70_000)]);
  const garbageAddress = (): string =>
    pick(['', 'x', '127.0.0.1', '::1', '256.1.1.1', `10.0.0.${Math.floor(rnd() * 300)}`, 'fe80::1%eth0', '1.2.3']);
  const srv = specOf({ discover: 'srv', name: '_h._tcp.x', lbset: 97 });
  const dns = specOf({ discover: 'dns', name: 'x', port: 8080 });

  it('5000 random answers: at most 64 workers, each with a valid port, lbset, loadfactor and route', () => {
    for (let round = 0; round < 5000; round++) {
      const n = Math.floor(rnd() * 200);
      const answer: Endpoint[] = [];
      for (let i = 0; i < n; i++) {
        answer.push({
          address: garbageAddress(),
          port: garbageNumber(),
          priority: garbageNumber(),
          weight: garbageNumber(),
        });
      }
      const endpoints = bound(answer);
      assert.ok(endpoints.length <= MAX_ENDPOINTS);
      for (const spec of [srv, dns]) {
        const members = membersFor(spec, endpoints);
        assert.equal(new Set(members.map((m) => m.name)).size, members.length, 'one worker per address:port');
        for (const m of members) {
          const port = Number(m.url.port) || 80;
          assert.ok(port >= 1 && port <= 65_535, m.name);
          assert.ok(Number.isInteger(m.lbset) && m.lbset >= 0 && m.lbset <= 99, `lbset ${m.lbset}`);
          assert.ok(
            Number.isInteger(m.lbfactor) && m.lbfactor >= 100 && m.lbfactor <= 10_000,
            `lbfactor ${m.lbfactor}`,
          );
          assert.match(m.route, /^[0-9a-f]{12}$/);
        }
      }
    }
  });

  it('SRV tiers start at the member lbset and stop at 99; weight 0 is the smallest share, all 0 equal ones', () => {
    const e = (priority: number, weight: number, port: number): Endpoint => ({
      address: '10.0.0.1',
      port,
      priority,
      weight,
    });
    const members = membersFor(srv, bound([e(1, 0, 1), e(1, 65_535, 2), e(5, 0, 3), e(5, 0, 4), e(9, 7, 5)]));
    assert.deepEqual(
      members.map((m) => [m.url.port, m.lbset, m.lbfactor]),
      [
        ['1', 97, 100],
        ['2', 97, 10_000],
        ['3', 98, 10_000],
        ['4', 98, 10_000],
        ['5', 99, 10_000],
      ],
    );
  });
});

describe('hostile answers from a real dnsmasq', { skip, timeout: 30_000 }, () => {
  const hosts = Array.from({ length: 300 }, (_, i) => `10.9.${i >> 8}.${(i & 255) + 1} many.test`).join('\n');
  const dns = new Dnsmasq([
    'host-record=t.test,127.0.0.1',
    'srv-host=_h._tcp.odd.test,t.test,0,1,1',
    'srv-host=_h._tcp.odd.test,.,80,1,5',
    'srv-host=_h._tcp.odd.test,t.test,81,1,65535',
    'srv-host=_h._tcp.odd.test,t.test,82,1,1',
    'srv-host=_h._tcp.odd.test,nowhere.test,83,1,1',
  ]);
  let lb: BalancerMiddleware | undefined;
  after(async () => {
    await lb?.close(100);
    await dns.dispose();
  });

  it('300 addresses become 64 workers; port 0, an empty target and an unknown one are skipped; TTL bounds the refresh', async () => {
    await dns.start(`${hosts}\n`);
    const servers = [dns.server];
    const clock = new FakeClock();
    lb = balancer({
      clock,
      logger: false,
      balancers: [
        { name: 'many', mount: '/m', members: [{ discover: 'dns', name: 'many.test', port: 80, family: 4, servers }] },
        { name: 'odd', mount: '/o', members: [{ discover: 'srv', name: '_h._tcp.odd.test', family: 4, servers }] },
      ],
    });
    await lb.ready;
    assert.equal(lb.get('many')!.workers.length, MAX_ENDPOINTS);
    // The next lookups: A records after their 1 s TTL (shorter than the 30 s refresh); SRV has no TTL.
    const next = (name: string): number | undefined => discoveryOf(lb!.get(name)!)!.groups[0]!.nextRefresh;
    assert.deepEqual([next('many'), next('odd')], [clock.now() + 1000, clock.now() + 30_000]);
    assert.deepEqual(
      lb.get('odd')!.workers.map((w) => [w.name, w.loadfactor]),
      [
        ['http://127.0.0.1:81', 100],
        ['http://127.0.0.1:82', 1],
      ],
    );
  });
});
