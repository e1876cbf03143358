/**
 * Members from SRV records, against a real dnsmasq: priority → lbset tier, weight → loadfactor.
 * Shares are measured over 10 000 elections of the balancer's own selector (byrequests is exact),
 * and real requests show the tiers: the second tier only gets traffic once the first is down.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { balancer, type BalancerMiddleware } from '../../lib/middleware.js';
import { createContext } from '../../lib/model/context.js';
import type { Balancer } from '../../lib/balancer/balancer.js';
import { Upstream } from '../support/upstreams.js';
import { listen, request, sequence } from '../support/http.js';
import { Dnsmasq, dnsmasqSkip } from './dnsmasq.js';
import { discoveryOf } from '../../lib/discovery/discovery.js';
import { applyChangeSet } from '../../lib/balancer/admin.js';

const skip = dnsmasqSkip();
/** [target, priority, weight] of each SRV record, one upstream each. */
const RECORDS: readonly (readonly [string, number, number])[] = [
  ['a.test', 10, 10],
  ['a.test', 10, 30],
  ['b.test', 10, 60],
  ['b.test', 20, 5],
] as const;

describe('DNS discovery (SRV records, real dnsmasq)', { skip, timeout: 30_000 }, () => {
  const ups = RECORDS.map((_, i) => new Upstream(`u${i}`));
  let dns: Dnsmasq;
  let lb: BalancerMiddleware;
  let b: Balancer;
  let front: { base: string; close: () => Promise<void> };
  const dnsmasqFor = (records: typeof RECORDS): Dnsmasq =>
    new Dnsmasq([
      'host-record=a.test,127.0.0.1',
      'host-record=b.test,127.0.0.1',
      ...records.map(([t, p, w], i) => `srv-host=_http._tcp.svc.test,${t},${ups[i]!.port},${p},${w}`),
    ]);

  before(async () => {
    for (const u of ups) await u.start();
    dns = dnsmasqFor(RECORDS);
    await dns.start();
    lb = balancer({
      logger: false,
      balancers: [
        {
          name: 'app',
          mount: '/app',
          members: [{ discover: 'srv', name: '_http._tcp.svc.test', refresh: '1h', servers: [dns.server] }],
        },
      ],
    });
    await lb.ready;
    b = lb.get('app')!;
    front = await listen(lb);
  });

  after(async () => {
    await front.close();
    await lb.close(1000);
    await dns.dispose();
    for (const u of ups) await u.stop();
  });

  const byUpstream = (): { lbset: number; loadfactor: number }[] =>
    ups.map((u) => {
      const w = b.worker(u.url)!;
      return { lbset: w.lbset, loadfactor: w.loadfactor };
    });

  it('priority gives the lbset tier, weight the loadfactor scaled into 1..100', () => {
    assert.deepEqual(byUpstream(), [
      { lbset: 0, loadfactor: 16.67 },
      { lbset: 0, loadfactor: 50 },
      { lbset: 0, loadfactor: 100 },
      { lbset: 1, loadfactor: 100 },
    ]);
  });

  it('shares follow the SRV weights within ±2 pp over 10 000 elections', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const s = b.selector.select(undefined, createContext(b.id), undefined);
      assert.ok(s.worker);
      counts.set(s.worker.name, (counts.get(s.worker.name) ?? 0) + 1);
    }
    const shares = ups.map((u) => ((counts.get(u.url) ?? 0) / 10_000) * 100);
    [10, 30, 60, 0].forEach((want, i) => {
      assert.ok(Math.abs(shares[i]! - want) <= 2, `upstream ${i}: ${shares[i]}% for SRV weight share ${want}%`);
    });
  });

  it('real traffic stays in the first tier, and reaches the second only when the first is down', async () => {
    const seen = await sequence(front.base, 20);
    assert.deepEqual(
      ups.map((u) => seen.filter((x) => x === u.name).length),
      [2, 6, 12, 0],
    );
    for (const u of ups.slice(0, 3)) await u.stop();
    const r = await request(front.base, '/app/x');
    assert.equal(r.status, 200);
    assert.equal(r.from, 'u3');
  });

  it('changed weights and priorities apply at the next lookup; an admin edit stays until DNS changes that field', async () => {
    applyChangeSet(b, { balancer: 'app', worker: ups[1]!.url, workerEdit: { lbfactor: 4200 } });
    // dnsmasq re-reads SRV records only at start: a new one on the same port answers differently.
    const port = dns.port;
    await dns.dispose();
    dns = dnsmasqFor([
      ['a.test', 10, 60],
      ['a.test', 10, 30],
      ['b.test', 20, 10],
      ['b.test', 20, 5],
    ]);
    await dns.start('', port);
    await discoveryOf(b)!.groups[0]!.refresh();
    assert.deepEqual(byUpstream(), [
      { lbset: 0, loadfactor: 100 },
      { lbset: 0, loadfactor: 42 },
      { lbset: 1, loadfactor: 100 },
      { lbset: 1, loadfactor: 50 },
    ]);
  });
});
