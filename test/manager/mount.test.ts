/**
 * The manager on plain node:http under a prefix, as the README shows it: `managerRouter(lb, { mount })`
 * strips the prefix itself, so the page, its links and forms, the XML and the JSON API all work
 * without Express.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { balancer, ConfigError, managerRouter } from '../../lib/index.js';
import type { ManagerSnapshot, ManagerOptions } from '../../lib/index.js';
import { listen, request } from '../support/http.js';
import { startUpstreams, stopAll } from '../support/upstreams.js';
import { api, get, postForm, traffic, workerUrl, type Setup } from './helpers.js';

/** The README's node:http server: the manager under `prefix`, everything else to the balancer. */
async function nodeHttp(t: TestContext, prefix: string, manager: ManagerOptions): Promise<Setup> {
  const ups = await startUpstreams('a', 'b', 'c');
  t.after(() => stopAll(ups));
  const members = ups.map((u, i) => ({ url: u.url, route: `r${i + 1}` }));
  const lb = balancer({ balancers: [{ name: 'oracle', mount: '/app', growth: 1, members }] });
  const router = managerRouter(lb, manager);
  const srv = await listen((req, res) => {
    if (req.url?.startsWith(prefix)) return router(req, res);
    lb(req, res);
  });
  t.after(async () => {
    await srv.close();
    await lb.close(100);
  });
  await lb.ready;
  return { base: srv.base, manager: `${srv.base}${prefix}`, lb, router, ups };
}

describe('managerRouter mount option on node:http', () => {
  test('page, links, ?xml=1, a form edit with its nonce and the JSON API, all under the prefix', async (t) => {
    const s = await nodeHttp(t, '/balancer-manager', { mount: '/balancer-manager' });
    const page = await get(s.manager);
    assert.equal(page.status, 200);
    assert.match(page.body, /LoadBalancer Status for <a href="\?b=oracle">balancer:\/\/oracle<\/a>/);
    const edit = await get(`${s.manager}?b=oracle&w=${encodeURIComponent(workerUrl(s, 1))}`);
    assert.equal(edit.status, 200);
    assert.ok(edit.body.includes('action="/balancer-manager"'), 'the form posts back under the prefix');
    const xml = await get(`${s.manager}?xml=1`);
    assert.match(String(xml.headers['content-type']), /^text\/xml/);

    const r = await postForm(s, { w: workerUrl(s, 1), w_status_D: '1' });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, `/balancer-manager?b=oracle&w=${encodeURIComponent(workerUrl(s, 1))}&saved=1`);
    assert.deepEqual(await traffic(s, 4), ['a', 'c', 'a', 'c']);

    const snap = await api(s, 'GET', '');
    assert.equal(snap.status, 200);
    assert.equal((snap.json as ManagerSnapshot).balancers[0]!.workers[1]!.status, 'D');
    const slash = await get(`${s.manager}/?b=oracle`);
    assert.equal(slash.status, 200);
  });

  test('a nested prefix with a trailing slash in the option', async (t) => {
    const s = await nodeHttp(t, '/admin/lb', { mount: '/admin/lb/' });
    assert.equal((await get(s.manager)).status, 200);
    assert.equal((await api(s, 'GET', '/balancers')).status, 200);
    assert.equal((await postForm(s, { w: workerUrl(s, 0), w_lf: '3' })).status, 303);
    assert.equal(s.lb.balancers[0]!.workers[0]!.lbfactor, 300);
  });

  test('URLs that only start with the prefix are not the manager', async (t) => {
    const s = await nodeHttp(t, '/balancer-manager', { mount: '/balancer-manager' });
    const r = await request(s.base, '/balancer-managerX');
    assert.equal(r.status, 404);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'ERR_MANAGER_NOT_FOUND');
  });

  test('without the option the prefix is not stripped (the mistake the option fixes)', async (t) => {
    const s = await nodeHttp(t, '/balancer-manager', {});
    assert.equal((await get(s.manager)).status, 404);
  });

  test('under Express, app.use(prefix, router) with the same mount still works', async (t) => {
    const [a] = await startUpstreams('a');
    t.after(() => stopAll([a!]));
    const lb = balancer({ balancers: [{ name: 'p', mount: '/app', members: [{ url: a!.url }] }] });
    const app = express();
    app.use('/balancer-manager', managerRouter(lb, { mount: '/balancer-manager' }));
    app.use(lb);
    const srv = await listen(app);
    t.after(async () => {
      await srv.close();
      await lb.close(100);
    });
    assert.equal((await request(srv.base, '/balancer-manager')).status, 200);
    assert.equal((await request(srv.base, '/balancer-manager/api')).status, 200);
  });

  test('a mount that is not a path is a ConfigError naming the option', () => {
    const lb = balancer({ balancers: [{ name: 'p', mount: '/app', members: [{ url: 'http://127.0.0.1:9' }] }] });
    for (const bad of ['balancer-manager', '', '/a?b', 5]) {
      assert.throws(
        () => managerRouter(lb, { mount: bad as string }),
        (err: unknown) => err instanceof ConfigError && err.field === 'manager.mount' && err.value === bad,
      );
    }
    void lb.close(0);
  });
});
