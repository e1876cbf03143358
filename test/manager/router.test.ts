import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import express5 from 'express';
import express4 from 'express4';
import { balancer, managerRouter } from '../../lib/index.js';
import type { AuditEvent, BalancerSnapshot, ManagerSnapshot } from '../../lib/index.js';

interface ErrorBody {
  error: { code: string; message: string; field: string | null };
}
import { listen, request } from '../support/http.js';
import { startUpstreams, stopAll } from '../support/upstreams.js';
import { api, get, nonceOf, postForm, setup, traffic, workerUrl } from './helpers.js';

describe('mounting', () => {
  for (const version of [4, 5] as const) {
    for (const mount of ['/balancer-manager', '/admin/lb', '/x']) {
      test(`Express ${version} at ${mount}: page, ?xml=1, links, form action and a change`, async (t) => {
        const s = await setup(t, { express: version, mount });
        const page = await get(s.manager);
        assert.equal(page.status, 200);
        assert.match(String(page.headers['content-type']), /^text\/html; charset=utf-8/);
        assert.match(page.body, /LoadBalancer Status for <a href="\?b=oracle">balancer:\/\/oracle<\/a>/);
        const edit = await get(`${s.manager}?b=oracle&w=${encodeURIComponent(workerUrl(s, 1))}`);
        assert.ok(edit.body.includes(`action="${mount}"`), 'the form posts to the page itself');
        assert.match(edit.body, /<input type="hidden" name="nonce" value="[0-9a-f-]{36}">/);
        const xml = await get(`${s.manager}?xml=1`);
        assert.match(String(xml.headers['content-type']), /^text\/xml/);
        const r = await postForm(s, { w: workerUrl(s, 1), w_status_D: '1' });
        assert.equal(r.status, 303);
        assert.equal(r.headers.location, `${mount}?b=oracle&w=${encodeURIComponent(workerUrl(s, 1))}&saved=1`);
        assert.deepEqual(await traffic(s, 4), ['a', 'c', 'a', 'c']);
        const api1 = await get(`${s.manager}/api`);
        assert.equal(api1.status, 200);
        assert.equal((JSON.parse(api1.body) as ManagerSnapshot).balancers[0]!.workers[1]!.status, 'D');
      });
    }
  }

  test('a trailing slash on the mount works too', async (t) => {
    const s = await setup(t);
    const r = await get(`${s.manager}/?b=oracle`);
    assert.equal(r.status, 200);
    assert.match(r.body, /action="\/balancer-manager\/"/);
  });

  test('works as a plain node:http handler (no Express) with next() absent', async (t) => {
    const [a] = await startUpstreams('a');
    t.after(() => stopAll([a!]));
    const lb = balancer({ balancers: [{ name: 'p', mount: '/app', members: [{ url: a!.url }] }] });
    const router = managerRouter(lb);
    const srv = await listen((req, res) => router(req, res));
    t.after(async () => {
      await srv.close();
      await lb.close(100);
    });
    assert.equal((await request(srv.base, '/')).status, 200);
    assert.equal((await request(srv.base, '/nope')).status, 404);
  });

  test('unknown paths under the mount fall through to next()', async (t) => {
    const s = await setup(t);
    const r = await get(`${s.manager}/favicon.ico`);
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.body, /ERR_MANAGER/, "Express's own 404, not the manager's");
  });
});

describe('what each change does to traffic', () => {
  test('disable, enable, loadfactor, lbset, balancer settings, add worker', async (t) => {
    const s = await setup(t);
    assert.deepEqual(await traffic(s, 3), ['a', 'b', 'c']);
    await postForm(s, { w: workerUrl(s, 1), w_status_D: '1' });
    assert.deepEqual(await traffic(s, 4), ['a', 'c', 'a', 'c']);
    await postForm(s, { w: workerUrl(s, 1), w_status_D: '0' });
    assert.deepEqual(await traffic(s, 3), ['a', 'b', 'c']);
    await postForm(s, { w: workerUrl(s, 0), w_lf: '3' });
    const w = s.lb.balancers[0]!.workers;
    assert.deepEqual(
      w.map((x) => x.lbstatus),
      [300, 100, 100],
      'a loadfactor change restarts every credit at its lbfactor (recalc_factors)',
    );
    const ten = await traffic(s, 10);
    assert.equal(ten.filter((x) => x === 'a').length, 6);
    await postForm(s, { w: workerUrl(s, 0), w_lf: '1' });
    await postForm(s, { w: workerUrl(s, 2), w_ls: '1' });
    assert.deepEqual(await traffic(s, 4), ['a', 'b', 'a', 'b'], 'lbset 1 is only a fallback tier');
    await postForm(s, { w: workerUrl(s, 2), w_ls: '0' });
    const add = await postForm(s, { b_nwrkr: 'http://127.0.0.1:9', b_wyes: '1' });
    assert.equal(add.status, 303);
    assert.equal(w.length, 4);
    assert.equal(w[3]!.status & 4, 4, 'a worker added at run time starts disabled');
    assert.ok(!(await traffic(s, 6)).includes('?'));
    const full = await postForm(s, { b_nwrkr: 'http://127.0.0.1:10', b_wyes: '1' });
    assert.equal(full.status, 409, 'growth is used up');
  });

  test('stickysession A|B round-trips exactly and routes by cookie A and parameter B', async (t) => {
    const s = await setup(t);
    await postForm(s, { b_ss: 'SID|sid' });
    const b = s.lb.balancers[0]!;
    assert.deepEqual(b.sticky, { cookie: 'SID', param: 'sid' });
    const form = await get(`${s.manager}?b=oracle`);
    assert.match(form.body, /name="b_ss" id="b_ss" value="SID\|sid"/);
    // Submitting the form unchanged keeps the same names (Apache's "A | B" would break them).
    await postForm(s, { b_ss: 'SID|sid', b_max: '2' });
    assert.deepEqual(b.sticky, { cookie: 'SID', param: 'sid' });
    assert.deepEqual(await traffic(s, 2, { cookie: 'SID=x.r3' }), ['c', 'c']);
    const byParam = await request(s.base, '/app/x?sid=x.r2');
    assert.equal(byParam.from, 'b');
    await postForm(s, { b_ss: '-' });
    assert.equal(b.sticky, undefined);
  });

  test('an lbmethod change takes effect; the same method keeps the scheduler state', async (t) => {
    const s = await setup(t);
    await traffic(s, 1);
    const b = s.lb.balancers[0]!;
    const sched = b.scheduler;
    await postForm(s, { b_lbm: 'byrequests' });
    assert.equal(b.scheduler, sched);
    await postForm(s, { b_lbm: 'bybusyness' });
    assert.equal(b.lbmethod, 'bybusyness');
    assert.notEqual(b.scheduler, sched);
  });
});

describe('refusals: 4xx with the reason, nothing half-applied, no crash', () => {
  test('unknown balancer, unknown worker, worker without its balancer (CVE-2007-6422)', async (t) => {
    const s = await setup(t);
    const nonce = await nonceOf(s);
    assert.equal((await postForm(s, { b: 'nope', w: workerUrl(s, 0), w_lf: '2' }, { nonce })).status, 404);
    assert.equal((await postForm(s, { w: 'http://127.0.0.1:1', w_lf: '2' }, { nonce })).status, 404);
    const noB = await request(s.manager, '/balancer-manager', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: s.manager },
      body: `w=${encodeURIComponent(workerUrl(s, 0))}&w_lf=2&nonce=${nonce}`,
    });
    assert.equal(noB.status, 400);
    assert.equal((await get(`${s.manager}?w=${encodeURIComponent(workerUrl(s, 0))}`)).status, 400);
    assert.equal((await get(`${s.manager}?b=nope&w=${encodeURIComponent(workerUrl(s, 0))}`)).status, 404);
    assert.equal((await get(`${s.manager}?b=oracle&w=nope`)).status, 404);
    assert.equal((await api(s, 'GET', '/balancers/nope/workers/x')).status, 404);
    assert.equal((await get(s.manager)).status, 200, 'still serving');
  });

  test('one bad field refuses the whole change set', async (t) => {
    const s = await setup(t);
    const w = s.lb.balancers[0]!.workers[0]!;
    const r = await postForm(s, { w: workerUrl(s, 0), w_lf: '5', w_status_D: '1', w_ls: '100' });
    assert.equal(r.status, 400);
    assert.match(r.body, /w_ls: &quot;100&quot; is not an integer in 0..99/);
    assert.match(
      r.body,
      /name="w_ls" id="w_ls" value="100" class="invalid"/,
      'the form comes back with the posted values',
    );
    assert.equal(w.lbfactor, 100);
    assert.equal(w.status, 0);
    const both = await postForm(s, { w: workerUrl(s, 0), w_lf: '5', b_nwrkr: 'ftp://x', b_wyes: '1' });
    assert.equal(both.status, 400);
    assert.equal(w.lbfactor, 100, 'the valid worker part was not applied either');
  });

  test('JSON errors are {error:{code,message,field}}', async (t) => {
    const s = await setup(t);
    const nonce = await nonceOf(s);
    const r = await api(s, 'PATCH', `/balancers/oracle/workers/${encodeURIComponent(workerUrl(s, 0))}`, {
      nonce,
      loadfactor: 0,
    });
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys((r.json as { error: object }).error).sort(), ['code', 'field', 'message']);
    assert.equal((r.json as { error: { field: string } }).error.field, 'loadfactor');
    const dup = await api(s, 'POST', '/balancers/oracle/workers', { nonce, url: workerUrl(s, 0) });
    assert.equal(dup.status, 409);
    assert.equal((dup.json as { error: { code: string } }).error.code, 'ERR_MANAGER_CONFLICT');
    const m = await api(s, 'DELETE', '/balancers/oracle');
    assert.equal(m.status, 405);
    assert.equal(m.headers.allow, 'GET, HEAD, PATCH, POST');
    const bad = await api(s, 'PATCH', '/balancers/oracle', undefined, {
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    assert.equal(bad.status, 415);
    const big = await api(s, 'PATCH', '/balancers/oracle', { nonce, stickysession: 'x'.repeat(20_000) });
    assert.equal(big.status, 413);
    const notJson = await request(s.manager, '/balancer-manager/api/balancers/oracle', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', origin: s.base },
      body: '{"nonce":',
    });
    assert.equal(notJson.status, 400);
    assert.equal((JSON.parse(notJson.body) as ErrorBody).error.code, 'ERR_MANAGER_BODY');
  });
});

describe('request bodies', () => {
  for (const version of [4, 5] as const) {
    test(`Express ${version}: a body that express.urlencoded()/express.json() already parsed is used`, async (t) => {
      const [a, b] = await startUpstreams('a', 'b');
      t.after(() => stopAll([a!, b!]));
      const lb = balancer({ balancers: [{ name: 'p', mount: '/app', members: [{ url: a!.url }, { url: b!.url }] }] });
      const ex = version === 4 ? express4 : express5;
      const app = ex();
      app.use(ex.urlencoded({ extended: false }), ex.json());
      app.use('/m', managerRouter(lb));
      const srv = await listen(app);
      t.after(async () => {
        await srv.close();
        await lb.close(100);
      });
      const nonce = lb.get('p')!.nonce;
      const form = await request(srv.base, '/m', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: srv.base },
        body: `b=p&nonce=${nonce}&b_max=0`,
      });
      assert.equal(form.status, 303);
      assert.equal(lb.get('p')!.maxattemptsSet, 0);
      const json = await request(srv.base, '/m/api/balancers/p', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', origin: srv.base },
        body: JSON.stringify({ nonce, maxattempts: 1 }),
      });
      assert.equal(json.status, 200);
      assert.equal(lb.get('p')!.maxattemptsSet, 1);
    });
  }

  test('a chunked body over the limit is refused with 413 and nothing changes', async (t) => {
    const s = await setup(t, { manager: { bodyLimit: 64 } });
    const r = await request(s.manager, '/balancer-manager', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: s.manager },
      body: `b=oracle&nonce=${s.lb.balancers[0]!.nonce}&b_max=0&w_wr=${'x'.repeat(100)}`,
      chunked: true,
    });
    assert.equal(r.status, 413);
    assert.equal(s.lb.balancers[0]!.maxattemptsSet, undefined);
  });

  test('a repeated field is refused', async (t) => {
    const s = await setup(t);
    const r = await request(s.manager, '/balancer-manager', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: s.manager },
      body: `b=oracle&nonce=${s.lb.balancers[0]!.nonce}&b_max=0&b_max=1`,
    });
    assert.equal(r.status, 400);
    assert.match(r.body, /field b_max is given twice/);
  });
});

describe('JSON API', () => {
  test('GET snapshot, PATCH balancer and worker, POST add worker', async (t) => {
    const s = await setup(t);
    const snap = await api(s, 'GET', '');
    assert.equal(snap.status, 200);
    const nonce = (snap.json as { balancers: { nonce: string }[] }).balancers[0]!.nonce;
    const wpath = `/balancers/oracle/workers/${encodeURIComponent(workerUrl(s, 1))}`;
    const w = await api(s, 'PATCH', wpath, { nonce, flags: { D: true }, loadfactor: 2, route: 'rb' });
    assert.equal(w.status, 200);
    assert.equal((w.json as { worker: { status: string; loadfactor: number } }).worker.status, 'D');
    assert.deepEqual(await traffic(s, 2), ['a', 'c']);
    const b = await api(s, 'PATCH', '/balancers/balancer%3A%2F%2Foracle', {
      nonce,
      stickysession: 'JSESSIONID',
      maxattempts: 1,
    });
    assert.equal(b.status, 200);
    assert.equal((b.json as { balancer: { stickysession: string } }).balancer.stickysession, 'JSESSIONID');
    const viaHeader = await api(
      s,
      'POST',
      '/balancers/oracle/workers',
      { url: 'http://127.0.0.1:9' },
      { headers: { 'x-balancer-nonce': nonce } },
    );
    assert.equal(viaHeader.status, 201);
    assert.equal((viaHeader.json as { worker: { status: string } }).worker.status, 'D');
    const one = await api(s, 'GET', wpath);
    assert.equal((one.json as { worker: { route: string } }).worker.route, 'rb');
    const list = await api(s, 'GET', '/balancers/oracle/workers');
    assert.equal((list.json as { workers: unknown[] }).workers.length, 4);
  });

  test('a form POST that asks for JSON gets JSON', async (t) => {
    const s = await setup(t);
    const r = await postForm(s, { b_max: '1' }, { headers: { accept: 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { balancer: BalancerSnapshot }).balancer.maxattempts, 1);
  });
});

describe('audit trail', () => {
  test('every applied change is an "audit" event on the router with who/what/before/after', async (t) => {
    const s = await setup(t, { manager: { actor: (req) => String(req.headers['x-user'] ?? '') || undefined } });
    const events: AuditEvent[] = [];
    s.router.on('audit', (e) => events.push(e));
    await postForm(s, { w: workerUrl(s, 0), w_lf: '2', w_status_N: '1' }, { headers: { 'x-user': 'alice' } });
    await postForm(s, { b_ss: 'JSESSIONID' });
    await postForm(s, { w: workerUrl(s, 0), w_lf: '0' });
    assert.equal(events.length, 2, 'refused changes are not audited');
    const [e1, e2] = events;
    assert.equal(e1!.actor, 'alice');
    assert.equal(e1!.address, '127.0.0.1');
    assert.equal(e1!.balancer, 'balancer://oracle');
    assert.equal(e1!.worker, workerUrl(s, 0));
    assert.deepEqual(e1!.before, { loadfactor: 1, status: '' });
    assert.deepEqual(e1!.after, { loadfactor: 2, status: 'N' });
    assert.deepEqual(e1!.change.workerEdit, { lbfactor: 200, flags: { N: true } });
    assert.deepEqual(e2!.before, { stickysession: null });
    assert.deepEqual(e2!.after, { stickysession: 'JSESSIONID' });
  });

  test('a throwing audit listener or actor() does not break the change', async (t) => {
    const s = await setup(t, {
      manager: {
        actor: () => {
          throw new Error('boom');
        },
      },
    });
    s.router.on('audit', () => {
      throw new Error('listener');
    });
    const r = await postForm(s, { b_max: '1' });
    assert.equal(r.status, 303);
    assert.equal(s.lb.balancers[0]!.maxAttempts, 1);
  });
});

describe('ready: requests wait for stored state', () => {
  test('a request that arrives while the store is loading is balanced with the stored state', async (t) => {
    const [a, b] = await startUpstreams('a', 'b');
    t.after(() => stopAll([a!, b!]));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store = {
      load: async () => {
        await gate;
        return { version: 3, workers: [{ name: a!.url, status: 'D' }], added: [] };
      },
      save: () => Promise.resolve(),
    };
    const lb = balancer({
      store,
      balancers: [{ name: 'p', mount: '/app', members: [{ url: a!.url }, { url: b!.url }] }],
    });
    const srv = await listen(lb);
    t.after(async () => {
      await srv.close();
      await lb.close(100);
    });
    const pending = request(srv.base, '/app/x');
    setTimeout(release, 50);
    assert.equal((await pending).from, 'b');
  });
});
