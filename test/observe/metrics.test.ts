/**
 * Prometheus metrics: counts equal what the workers saw, the exposition passes `promtool check
 * metrics`, the manager serves them, and a missing prom-client is a typed error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Counter, Registry } from 'prom-client';
import { balancer, managerRouter, metricsHandler, type BalancerMiddleware } from '../../lib/index.js';
import { Upstream, closedPort, stopAll } from '../support/upstreams.js';
import { listen, request } from '../support/http.js';
import { RawServer } from '../support/raw-server.js';

/** The samples of one metric: label string ("a=\"x\",b=\"y\"", sorted as exposed) → value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] === name) out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

async function idle(lb: BalancerMiddleware): Promise<void> {
  while (lb.balancers.some((b) => b.inflight > 0)) await new Promise((r) => setImmediate(r));
}

async function rig(urls: string[], opts: Record<string, unknown> = {}) {
  const lb = balancer({
    balancers: [{ name: 'app', mount: '/app', members: urls.map((url) => ({ url })), ...opts }],
  });
  const metrics = metricsHandler(lb);
  await metrics.ready;
  const srv = await listen((req, res) => {
    if (req.url === '/metrics') metrics(req, res);
    else lb(req, res);
  });
  return {
    lb,
    base: srv.base,
    async scrape(): Promise<string> {
      await idle(lb);
      const r = await request(srv.base, '/metrics');
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      return r.body;
    },
    async close() {
      metrics.stop();
      await lb.close(100);
      await srv.close();
    },
  };
}

test('metrics: requests, attempts, bytes and durations per worker equal what each worker received', async () => {
  const ups = await Promise.all(['a', 'b', 'c'].map((n) => new Upstream(n).start()));
  const r = await rig(ups.map((u) => u.url));
  try {
    for (let i = 0; i < 30; i++) {
      const reply = await request(r.base, `/app/${i}`, i % 3 === 0 ? { method: 'POST', body: 'x' } : {});
      assert.equal(reply.status, 200);
    }
    const text = await r.scrape();
    const requests = samples(text, 'epb_requests_total');
    const attempts = samples(text, 'epb_attempts_total');
    const durations = samples(text, 'epb_request_duration_seconds_count');
    const ttfb = samples(text, 'epb_worker_first_byte_seconds_count');
    const received = samples(text, 'epb_worker_received_bytes_total');
    const b = r.lb.balancers[0]!;
    let total = 0;
    for (const u of ups) {
      const w = `balancer="app",worker="${u.url}"`;
      for (const method of ['GET', 'POST']) {
        const sent = u.hits.filter((h) => h.method === method).length;
        assert.equal(requests.get(`${w},method="${method}",status_class="2xx"`) ?? 0, sent, `${u.name} ${method}`);
      }
      assert.equal(attempts.get(`${w},outcome="completed"`), u.hits.length);
      assert.equal(durations.get(w), u.hits.length);
      assert.equal(ttfb.get(w), u.hits.length);
      assert.equal(received.get(w), b.worker(u.url)!.read);
      total += u.hits.length;
    }
    assert.equal(total, 30);
    assert.equal(
      [...requests.values()].reduce((x, y) => x + y, 0),
      30,
    );
    assert.equal(samples(text, 'epb_inflight_requests').get(`balancer="app",worker="${ups[0]!.url}"`), 0);
    assert.equal(samples(text, 'epb_worker_state').get(`balancer="app",worker="${ups[0]!.url}",state="E"`), 0);
    assert.equal(samples(text, 'epb_worker_usable').get(`balancer="app",worker="${ups[0]!.url}"`), 1);
    assert.equal(samples(text, 'epb_store_connected').get(''), 1);
  } finally {
    await r.close();
    await stopAll(ups);
  }
});

test('metrics: a failed-over request counts the connect failure, the retry and the worker in error', async () => {
  const ok = await new Upstream('ok').start();
  const closed = `http://127.0.0.1:${await closedPort()}`;
  const r = await rig([closed, ok.url]);
  try {
    assert.equal((await request(r.base, '/app/x')).from, 'ok');
    const text = await r.scrape();
    assert.equal(
      samples(text, 'epb_attempts_total').get(`balancer="app",worker="${closed}",outcome="connect_failed"`),
      1,
    );
    assert.equal(samples(text, 'epb_retries_total').get(`balancer="app",worker="${ok.url}"`), 1);
    assert.deepEqual(
      [...samples(text, 'epb_requests_total')],
      [[`balancer="app",worker="${ok.url}",method="GET",status_class="2xx"`, 1]],
    );
    assert.equal(samples(text, 'epb_worker_state').get(`balancer="app",worker="${closed}",state="E"`), 1);
    assert.equal(samples(text, 'epb_worker_usable').get(`balancer="app",worker="${closed}"`), 0);
  } finally {
    await r.close();
    await ok.stop();
  }
});

test('metrics: sticky hits and misses', async () => {
  const ups = await Promise.all(['a', 'b'].map((n) => new Upstream(n).start()));
  const r = await rig([], { stickysession: 'ROUTEID', members: ups.map((u, i) => ({ url: u.url, route: `r${i}` })) });
  try {
    await request(r.base, '/app/x', { headers: { cookie: 'ROUTEID=.r1' } });
    await request(r.base, '/app/x', { headers: { cookie: 'ROUTEID=.r1' } });
    await request(r.base, '/app/x', { headers: { cookie: 'ROUTEID=.nowhere' } });
    await request(r.base, '/app/x');
    assert.equal(ups[1]!.hits.length >= 2, true);
    const sticky = samples(await r.scrape(), 'epb_sticky_requests_total');
    assert.deepEqual(
      [...sticky],
      [
        ['balancer="app",result="hit"', 2],
        ['balancer="app",result="miss"', 1],
      ],
    );
  } finally {
    await r.close();
    await stopAll(ups);
  }
});

test('metrics: a retry the retry budget refuses is counted', async () => {
  const dying = await new RawServer((socket) => setTimeout(() => socket.destroy(), 5)).start();
  const ok = await new Upstream('ok').start();
  const r = await rig([dying.url, ok.url], { retryon: 'idempotent', retrybudget: { percent: 0, min: 0 } });
  try {
    assert.equal((await request(r.base, '/app/x')).status, 502);
    const text = await r.scrape();
    assert.deepEqual([...samples(text, 'epb_retry_budget_refusals_total')], [['balancer="app"', 1]]);
    assert.deepEqual(
      [...samples(text, 'epb_requests_total')],
      [[`balancer="app",worker="${dying.url}",method="GET",status_class="5xx"`, 1]],
    );
    assert.equal(samples(text, 'epb_attempts_total').get(`balancer="app",worker="${dying.url}",outcome="failed"`), 1);
  } finally {
    await r.close();
    await dying.stop();
    await ok.stop();
  }
});

test('metrics: the exposition passes promtool check metrics', async () => {
  const ok = await new Upstream('ok').start();
  const closed = `http://127.0.0.1:${await closedPort()}`;
  const r = await rig([closed, ok.url]);
  try {
    await request(r.base, '/app/x');
    await request(r.base, '/app/y', { method: 'PATCH', body: 'z' });
    const text = await r.scrape();
    assert.match(text, /epb_requests_total\{/);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.error, undefined, 'promtool is installed (.ci/run installs the prometheus package)');
    assert.deepEqual({ status: check.status, out: check.stdout + check.stderr }, { status: 0, out: '' });
  } finally {
    await r.close();
    await ok.stop();
  }
});

test('metrics: into a registry of your own, next to your metrics; one handler per balancer and registry', async () => {
  const registry = new Registry();
  new Counter({ name: 'app_orders_total', help: 'Orders', registers: [registry] });
  const lb = balancer({ balancers: [{ name: 'own', mount: '/own', members: [{ url: 'http://127.0.0.1:1' }] }] });
  try {
    const h = metricsHandler(lb, { registry });
    assert.equal(metricsHandler(lb, { registry }), h);
    assert.notEqual(metricsHandler(lb), h);
    await h.ready;
    const names = (): string[] => registry.getMetricsAsArray().map((m) => m.name);
    assert.ok(names().includes('epb_requests_total') && names().includes('app_orders_total'));
    h.stop();
    assert.deepEqual(names(), ['app_orders_total']);
    metricsHandler(lb).stop();
  } finally {
    await lb.close(0);
  }
});

test('metrics: the manager serves GET <manager>/metrics', async () => {
  const ok = await new Upstream('ok').start();
  const lb = balancer({ balancers: [{ name: 'app', mount: '/app', members: [{ url: ok.url }] }] });
  const manager = managerRouter(lb, { mount: '/balancer-manager' });
  const srv = await listen((req, res) => {
    if (req.url?.startsWith('/balancer-manager')) manager(req, res);
    else lb(req, res);
  });
  try {
    const first = await request(srv.base, '/balancer-manager/metrics');
    assert.equal(first.status, 200);
    assert.match(first.body, /^# TYPE epb_requests_total counter$/m);
    assert.equal(first.headers['x-content-type-options'], 'nosniff');
    assert.equal((await request(srv.base, '/app/x')).status, 200);
    await idle(lb);
    const second = await request(srv.base, '/balancer-manager/metrics');
    assert.equal(
      samples(second.body, 'epb_requests_total').get(
        `balancer="app",worker="${ok.url}",method="GET",status_class="2xx"`,
      ),
      1,
    );
  } finally {
    metricsHandler(lb).stop();
    await lb.close(100);
    await srv.close();
    await ok.stop();
  }
});

test('metrics and traces: without their packages, a typed error names the package (ERR_PROM_CLIENT_MISSING, ERR_OTEL_MISSING)', () => {
  const hook = fileURLToPath(new URL('./fixtures/hide-packages.mjs', import.meta.url));
  const script = fileURLToPath(new URL('./fixtures/missing-packages.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', hook, '--import', 'tsx', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'imported without them',
    'ERR_PROM_CLIENT_MISSING: metricsHandler needs the optional peer dependency "prom-client" (^15): npm install prom-client',
    'ERR_OTEL_MISSING: traceRequests needs the optional peer dependency "@opentelemetry/api" (^1.9): npm install @opentelemetry/api',
  ]);
});
