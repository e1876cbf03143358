import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { healthOf } from '../../lib/health/monitor.js';
import { toPersisted, applyPersisted } from '../../lib/balancer/admin.js';
import { statusLetters } from '../../lib/model/status.js';
import type { Balancer } from '../../lib/balancer/balancer.js';
import { FakeClock } from '../support/clock.js';
import type { HealthCheckSnapshot } from '../../lib/manager/types.js';
import { api, get, nonceOf, postForm, setup, type Setup } from './helpers.js';

type CheckJson = HealthCheckSnapshot;

const balancerOf = (s: Setup): Balancer => s.lb.balancers[0]!;

async function checkOf(s: Setup, i: number): Promise<CheckJson | null> {
  const r = await api(s, 'GET', '/balancers/oracle');
  const json = r.json as { balancer: { workers: { healthCheck: CheckJson | null }[] } };
  return json.balancer.workers[i]!.healthCheck;
}

/** Runs worker i's check now, as its timer would. */
async function runCheck(s: Setup, i: number): Promise<boolean | undefined> {
  const b = balancerOf(s);
  return (await healthOf(b)!.checker(b.workers[i]!)!.check())?.ok;
}

const hcHits = (s: Setup, i: number): string[] =>
  s.ups[i]!.hits.filter((h) => !h.url.startsWith('/app')).map((h) => `${h.method} ${h.url}`);

describe("the manager edits health checks with Apache's fields", () => {
  test('w_hm … w_he turn a check on; the worker is then checked with it and the page shows it', async (t) => {
    const clock = new FakeClock();
    const s = await setup(t, { config: { clock } });
    assert.equal(await checkOf(s, 1), null);
    const w = s.ups[1]!.url;
    const r = await postForm(s, {
      w,
      w_hm: 'GET',
      w_hi: '250',
      w_hp: '2',
      w_hf: '3',
      w_hu: '/health',
      w_he: '200-204',
    });
    assert.equal(r.status, 303, r.body);
    assert.deepEqual(await checkOf(s, 1), {
      method: 'GET',
      intervalMs: 250,
      passes: 2,
      passCount: 0,
      fails: 3,
      failCount: 0,
      uri: '/health',
      expect: '200-204',
      last: null,
    });
    assert.equal(await runCheck(s, 1), true);
    assert.deepEqual(hcHits(s, 1), ['GET /health']);
    const after = await checkOf(s, 1);
    assert.deepEqual(after?.last, { ok: true, reason: 'status 200', time: new Date(clock.now()).toISOString() });
    // The other workers are untouched.
    assert.equal(await checkOf(s, 0), null);
    const page = (await get(`${s.manager}?b=oracle&w=${encodeURIComponent(w)}`)).body;
    assert.match(page, /<th>HC Method<\/th><th>HC Interval<\/th><th>Passes<\/th><th>Fails<\/th><th>HC uri<\/th>/);
    assert.match(
      page,
      /<td>GET<\/td><td class="num">250 ms<\/td><td class="num">2 \(0\)<\/td><td class="num">3 \(0\)<\/td><td>\/health<\/td><td>200-204<\/td>/,
    );
    assert.match(page, /<select name="w_hm" id="w_hm">.*<option value="GET" selected>GET<\/option>/);
    assert.match(page, /name="w_hu" id="w_hu" value="\/health"/);
  });

  test('a refused value names its field and changes nothing', async (t) => {
    const s = await setup(t, { config: { clock: new FakeClock() } });
    const w = s.ups[0]!.url;
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ w_hm: 'PING' }, 'w_hm', /hcmethod: "PING" is not a health check method/],
      [{ w_hm: 'GET', w_hi: '50' }, 'w_hi', /hcinterval: 50 is not in 100\.\.86400000 ms/],
      [{ w_hm: 'GET', w_hp: '0' }, 'w_hp', /is not an integer in 1\.\.1000/],
      [{ w_hm: 'TCP', w_hu: '/x' }, 'w_hu', /hcuri: "\/x" has no effect with hcmethod TCP/],
      [{ w_hm: 'GET', w_he: 'ok' }, 'w_he', /hcexpect: "ok" is not a list of HTTP statuses/],
      [{ w_hi: '1000' }, 'w_hi', /hcinterval: 1000 needs an hcmethod other than NONE/],
    ];
    for (const [fields, field, message] of cases) {
      const reply = await postForm(s, { w, ...fields }, { headers: { accept: 'application/json' } });
      assert.equal(reply.status, 400, `${JSON.stringify(fields)}: ${reply.body}`);
      const err = (JSON.parse(reply.body) as { error: { field: string; message: string } }).error;
      assert.equal(err.field, field, JSON.stringify(fields));
      assert.match(err.message, message);
      assert.equal(await checkOf(s, 0), null, 'nothing changed');
    }
  });

  test('the JSON API takes the hc* option names; NONE turns the check off and clears C', async (t) => {
    const s = await setup(t, { config: { clock: new FakeClock() } });
    const path = `/balancers/oracle/workers/${encodeURIComponent(s.ups[2]!.url)}`;
    let r = await api(s, 'PATCH', path, {
      nonce: await nonceOf(s),
      hcmethod: 'head',
      hcinterval: '2s',
      hcfails: 1,
      hcexpect: '2xx',
    });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(await checkOf(s, 2), {
      method: 'HEAD',
      intervalMs: 2000,
      passes: 1,
      passCount: 0,
      fails: 1,
      failCount: 0,
      uri: '/',
      expect: '200-299',
      last: null,
    });
    s.ups[2]!.mode = { status: 503 };
    assert.equal(await runCheck(s, 2), false);
    assert.equal(statusLetters(balancerOf(s).workers[2]!.status), 'C');
    r = await api(s, 'PATCH', path, { nonce: await nonceOf(s), hcpasses: 0 });
    assert.equal(r.status, 400);
    assert.deepEqual((r.json as { error: { field: string } }).error.field, 'hcpasses');
    // Switching to TCP drops the HTTP-only settings carried over instead of refusing them.
    r = await api(s, 'PATCH', path, { nonce: await nonceOf(s), hcmethod: 'TCP' });
    assert.equal(r.status, 200, r.body);
    const tcp = await checkOf(s, 2);
    assert.deepEqual([tcp?.method, tcp?.uri, tcp?.expect, tcp?.intervalMs], ['TCP', null, null, 2000]);
    r = await api(s, 'PATCH', path, { nonce: await nonceOf(s), hcmethod: 'NONE' });
    assert.equal(r.status, 200, r.body);
    assert.equal(await checkOf(s, 2), null);
    assert.equal(healthOf(balancerOf(s))!.checker(balancerOf(s).workers[2]!), undefined);
    assert.equal(statusLetters(balancerOf(s).workers[2]!.status), '', 'C cleared with the check');
  });

  test('an unchanged form resubmitted keeps the running counts; a changed one restarts them', async (t) => {
    const s = await setup(t, {
      config: { clock: new FakeClock() },
      members: (ups) => ups.map((u) => ({ url: u.url, hcmethod: 'GET', hcfails: 3, hcuri: '/hc' })),
    });
    const w = s.ups[0]!.url;
    s.ups[0]!.mode = { status: 500 };
    assert.equal(await runCheck(s, 0), false);
    assert.equal((await checkOf(s, 0))?.failCount, 1);
    const same = { w, w_hm: 'GET', w_hi: '30000', w_hp: '1', w_hf: '3', w_hu: '/hc', w_he: '200-399' };
    assert.equal((await postForm(s, same)).status, 303);
    assert.equal((await checkOf(s, 0))?.failCount, 1, 'same check: not restarted');
    assert.equal((await postForm(s, { ...same, w_hf: '4' })).status, 303);
    const now = await checkOf(s, 0);
    assert.deepEqual([now?.fails, now?.failCount, now?.last], [4, 0, null]);
  });

  test('an edited check is stored and restored; the others stay as configured; a damaged one is skipped', async (t) => {
    const s = await setup(t, {
      config: { clock: new FakeClock() },
      members: (ups) => ups.map((u) => ({ url: u.url, hcmethod: 'TCP' })),
    });
    const b = balancerOf(s);
    const r = await api(s, 'PATCH', `/balancers/oracle/workers/${encodeURIComponent(s.ups[1]!.url)}`, {
      nonce: await nonceOf(s),
      hcmethod: 'GET',
      hcuri: '/ready',
    });
    assert.equal(r.status, 200, r.body);
    const saved = toPersisted(b);
    assert.deepEqual(
      saved.workers.map((w) => w.health),
      [
        undefined,
        { hcmethod: 'GET', hcinterval: 30000, hcpasses: 1, hcfails: 1, hcuri: '/ready', hcexpect: '200-399' },
        undefined,
      ],
    );
    // A second app from the same configuration, restored from that state.
    const s2 = await setup(t, {
      config: { clock: new FakeClock() },
      members: () => s.ups.map((u) => ({ url: u.url, hcmethod: 'TCP' })),
    });
    const b2 = balancerOf(s2);
    applyPersisted(b2, {
      ...saved,
      workers: saved.workers.map((w, i) => (i === 2 ? { ...w, health: { hcmethod: 'GET', hcinterval: 5 } } : w)),
    });
    assert.deepEqual(
      b2.workers.map((w) => `${w.health?.method} ${w.health?.uri}`),
      ['TCP /', 'GET /ready', 'TCP /'],
    );
    // s2's members are s's upstreams; nothing else checks them while the fake clocks stand still.
    const before = hcHits(s, 1).length;
    assert.equal(await runCheck(s2, 1), true);
    assert.deepEqual(hcHits(s, 1).slice(before), ['GET /ready']);
  });
});
