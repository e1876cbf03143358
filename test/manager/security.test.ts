import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { balancer, managerRouter } from '../../lib/index.js';
import { nonceMatches } from '../../lib/manager/security.js';
import { listen, request, type Reply } from '../support/http.js';
import { startUpstreams, stopAll } from '../support/upstreams.js';
import { api, get, nonceOf, postForm, setup, traffic, withoutOwnScript, workerUrl, type Setup } from './helpers.js';

function state(s: Setup): string {
  const b = s.lb.balancers[0]!;
  return JSON.stringify({
    w: b.workers.map((w) => [w.name, w.status, w.lbfactor, w.lbset, w.route, w.redirect]),
    b: [b.lbmethod, b.timeoutMs, b.maxattemptsSet, b.nofailover, b.sticky],
  });
}

describe('CVE-2007-6420: GET never changes anything', () => {
  test('a GET carrying every change field and the right nonce only views', async (t) => {
    const s = await setup(t);
    const before = state(s);
    const nonce = await nonceOf(s);
    const q = new URLSearchParams({
      b: 'oracle',
      w: workerUrl(s, 0),
      nonce,
      w_status_D: '1',
      w_lf: '50',
      w_ls: '3',
      w_wr: 'x',
      b_ss: 'X',
      b_lbm: 'bytraffic',
      b_nwrkr: 'http://127.0.0.1:9',
      b_wyes: '1',
    });
    for (const method of ['GET', 'HEAD']) {
      const r = await request(s.manager, `/balancer-manager?${q.toString()}`, {
        method,
        headers: { referer: s.manager },
      });
      assert.equal(r.status, 200);
      assert.equal((await request(s.manager, `/balancer-manager?${q.toString()}&xml=1`, { method })).status, 200);
      assert.equal((await request(s.manager, `/balancer-manager/api?${q.toString()}`, { method })).status, 200);
    }
    assert.equal(state(s), before);
    assert.deepEqual(await traffic(s, 3), ['a', 'b', 'c']);
  });

  test("the nonce is never placed in a link, only in the forms' hidden fields", async (t) => {
    const s = await setup(t);
    const nonce = await nonceOf(s);
    for (const url of [
      s.manager,
      `${s.manager}?b=oracle`,
      `${s.manager}?b=oracle&w=${encodeURIComponent(workerUrl(s, 0))}`,
    ]) {
      const body = (await get(url)).body;
      for (const href of body.matchAll(/href="([^"]*)"/g)) assert.ok(!href[1]!.includes(nonce), href[1]);
      const occurrences = body.split(nonce).length - 1;
      const hiddens = [...body.matchAll(/<input type="hidden" name="nonce" value="([^"]*)">/g)].length;
      assert.equal(occurrences, hiddens);
    }
    const r = await postForm(s, { b_max: '1' });
    assert.ok(!String(r.headers.location).includes(nonce), 'nor in the redirect after a change');
  });

  test('viewing and ?xml=1 work without a Referer (unlike Apache)', async (t) => {
    const s = await setup(t);
    assert.equal((await get(s.manager)).status, 200);
    const xml = await get(`${s.manager}?xml=1`);
    assert.equal(xml.status, 200);
    assert.match(xml.body, /^<\?xml/);
  });
});

describe('nonce', () => {
  test('missing, wrong, empty, other case or a prefix: 403 and nothing changes', async (t) => {
    const s = await setup(t);
    const before = state(s);
    const nonce = await nonceOf(s);
    for (const bad of [
      false,
      '',
      '00000000-0000-0000-0000-000000000000',
      nonce.toUpperCase(),
      nonce.slice(0, -1),
      `${nonce}x`,
    ] as const) {
      const r = await postForm(s, { w: workerUrl(s, 2), w_status_D: '1' }, { nonce: bad });
      assert.equal(r.status, 403, String(bad));
      assert.match(r.body, /wrong or missing nonce/);
      assert.doesNotMatch(r.body, /name="w_status_D"/, 'no form is refilled for a request without the nonce');
    }
    const j = await api(s, 'PATCH', '/balancers/oracle', { nonce: 'nope', maxattempts: 0 });
    assert.equal(j.status, 403);
    assert.equal((j.json as { error: { code: string; field: string } }).error.code, 'ERR_MANAGER_NONCE');
    assert.equal(state(s), before);
  });

  test("one balancer's nonce does not change another balancer", async (t) => {
    const [a, b] = await startUpstreams('a', 'b');
    t.after(() => stopAll([a!, b!]));
    const lb = balancer({
      balancers: [
        { name: 'one', mount: '/one', members: [{ url: a!.url }] },
        { name: 'two', mount: '/two', members: [{ url: b!.url }] },
      ],
    });
    const app = express();
    app.use('/m', managerRouter(lb));
    const srv = await listen(app);
    t.after(async () => {
      await srv.close();
      await lb.close(100);
    });
    const one = lb.get('one')!.nonce;
    assert.notEqual(one, lb.get('two')!.nonce);
    const r = await request(srv.base, '/m', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: srv.base },
      body: `b=two&nonce=${one}&b_max=0`,
    });
    assert.equal(r.status, 403);
    assert.equal(lb.get('two')!.maxattemptsSet, undefined);
  });

  test('nonceMatches: equal strings only; non-strings and empty never match', () => {
    assert.equal(nonceMatches('abc', 'abc'), true);
    assert.equal(nonceMatches('abc', 'abd'), false);
    assert.equal(nonceMatches('abc', 'ab'), false);
    assert.equal(nonceMatches('abc', ['abc']), false);
    assert.equal(nonceMatches('', ''), false);
    assert.equal(nonceMatches('abc', undefined), false);
  });

  test('nonces are random per balancer and process (UUIDs)', async (t) => {
    const s1 = await setup(t);
    const s2 = await setup(t);
    assert.match(await nonceOf(s1), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(await nonceOf(s1), await nonceOf(s2));
  });
});

describe('same origin (Origin, else Referer, against Host)', () => {
  const cases: [string, { origin?: string; referer?: string | false }, number][] = [
    ['same Origin', { origin: 'SELF', referer: false }, 303],
    ['same Referer, no Origin', { referer: 'SELF/balancer-manager?b=oracle' }, 303],
    ['neither Origin nor Referer (as Apache: ignored)', { referer: false }, 403],
    ['cross-site Origin', { origin: 'http://evil.example', referer: false }, 403],
    ['cross-site Origin wins over a same-site Referer', { origin: 'http://evil.example' }, 403],
    ['Origin "null" (sandboxed frame, data: URL)', { origin: 'null', referer: false }, 403],
    ['cross-site Referer', { referer: 'http://evil.example/balancer-manager' }, 403],
    ['same host, other port', { origin: 'http://127.0.0.1:1', referer: false }, 403],
    ['unparsable Referer', { referer: 'not a url' }, 403],
  ];
  for (const [label, o, status] of cases) {
    test(`${label} → ${status}`, async (t) => {
      const s = await setup(t);
      const fix = (v: string | false | undefined): string | false | undefined =>
        typeof v === 'string' ? v.replace('SELF', s.base) : v;
      const before = state(s);
      const r = await postForm(
        s,
        { w: workerUrl(s, 1), w_status_D: '1' },
        { origin: fix(o.origin) as string | undefined, referer: fix(o.referer) },
      );
      assert.equal(r.status, status, r.body.slice(0, 200));
      if (status === 403) {
        assert.equal(state(s), before);
        assert.deepEqual(await traffic(s, 3), ['a', 'b', 'c']);
      }
    });
  }

  test('host names compare case-insensitively, default ports drop out', async (t) => {
    const s = await setup(t, { manager: { allowedHosts: ['example.com'] } });
    const port = new URL(s.base).port;
    const r = await postForm(
      s,
      { b_max: '1' },
      { referer: `http://LocalHost:${port}/x`, headers: { host: `localhost:${port}` } },
    );
    assert.equal(r.status, 303);
    const d = await postForm(
      s,
      { b_max: '2' },
      { origin: 'http://example.com', referer: false, headers: { host: 'Example.com:80' } },
    );
    assert.equal(d.status, 303);
  });

  test('allowedOrigins admits a named admin origin', async (t) => {
    const s = await setup(t, { manager: { allowedOrigins: ['https://admin.example.com'] } });
    const r = await postForm(s, { b_max: '1' }, { origin: 'https://admin.example.com', referer: false });
    assert.equal(r.status, 303);
    const other = await postForm(s, { b_max: '1' }, { origin: 'http://admin.example.com', referer: false });
    assert.equal(other.status, 403, 'the scheme counts');
  });

  test('the JSON API needs the same origin too', async (t) => {
    const s = await setup(t);
    const nonce = await nonceOf(s);
    const r = await api(s, 'PATCH', '/balancers/oracle', { nonce, maxattempts: 0 }, { origin: false });
    assert.equal(r.status, 403);
    assert.equal((r.json as { error: { code: string } }).error.code, 'ERR_MANAGER_ORIGIN');
  });
});

describe('readOnly and authorize', () => {
  test('readOnly: no forms, no nonces anywhere, every change 403', async (t) => {
    const s = await setup(t, { manager: { readOnly: true } });
    const nonce = s.lb.balancers[0]!.nonce;
    for (const url of [s.manager, `${s.manager}?b=oracle`, `${s.manager}?xml=1`, `${s.manager}/api`]) {
      const body = (await get(url)).body;
      assert.ok(!body.includes(nonce), url);
      assert.doesNotMatch(body, /<form/);
    }
    const r = await postForm(s, { b_max: '0' }, { nonce });
    assert.equal(r.status, 403);
    assert.equal(s.lb.balancers[0]!.maxattemptsSet, undefined);
    const j = await api(s, 'PATCH', '/balancers/oracle', { nonce, maxattempts: 0 });
    assert.equal((j.json as { error: { code: string } }).error.code, 'ERR_MANAGER_READ_ONLY');
  });

  test('authorize() sees the validated change; false refuses with 403, a promise of true allows', async (t) => {
    const seen: unknown[] = [];
    const s = await setup(t, {
      manager: {
        authorize: (req, change) => {
          seen.push(change);
          return Promise.resolve(req.headers['x-role'] === 'admin');
        },
      },
    });
    const no = await postForm(s, { w: workerUrl(s, 0), w_status_D: '1' });
    assert.equal(no.status, 403);
    assert.match(no.body, /not authorized/);
    assert.equal(s.lb.balancers[0]!.workers[0]!.status, 0);
    const yes = await postForm(s, { w: workerUrl(s, 0), w_status_D: '1' }, { headers: { 'x-role': 'admin' } });
    assert.equal(yes.status, 303);
    assert.deepEqual(seen[0], { balancer: 'oracle', worker: workerUrl(s, 0), workerEdit: { flags: { D: true } } });
  });
});

describe('response headers', () => {
  function checkHeaders(r: Reply, what: string): void {
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/, what);
    assert.match(csp, /form-action 'self'/, what);
    assert.match(csp, /frame-ancestors 'none'/, what);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, what);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', what);
    assert.equal(r.headers['cache-control'], 'no-store', what);
    assert.equal(r.headers['referrer-policy'], 'same-origin', what);
  }

  test('on the page, the XML, the JSON, errors and redirects', async (t) => {
    const s = await setup(t);
    checkHeaders(await get(s.manager), 'page');
    checkHeaders(await get(`${s.manager}?xml=1`), 'xml');
    checkHeaders(await get(`${s.manager}/api`), 'json');
    checkHeaders(await get(`${s.manager}?b=nope`), '404 page');
    checkHeaders(await postForm(s, { b_max: '1' }), '303');
    checkHeaders(await postForm(s, { b_max: '1' }, { nonce: 'x' }), '403');
    checkHeaders(await api(s, 'PUT', ''), '405');
  });

  test("the page's only style and script elements carry the CSP nonce; no inline style attributes or handlers", async (t) => {
    const s = await setup(t);
    const r = await get(`${s.manager}?b=oracle`);
    const nonce = /style-src 'nonce-([^']+)'/.exec(String(r.headers['content-security-policy']))![1]!;
    assert.ok(r.body.includes(`<style nonce="${nonce}">`));
    assert.ok(r.body.includes(`<script nonce="${nonce}">`));
    assert.match(
      String(r.headers['content-security-policy']),
      new RegExp(`script-src 'nonce-${nonce.replace(/[+/]/g, '\\$&')}'`),
    );
    assert.doesNotMatch(withoutOwnScript(r.body), /<script|\sstyle=|\son[a-z]+=/i);
    const again = await get(`${s.manager}?b=oracle`);
    assert.notEqual(
      /nonce-([^']+)/.exec(String(again.headers['content-security-policy']))![1],
      nonce,
      'a fresh nonce per response',
    );
  });
});
