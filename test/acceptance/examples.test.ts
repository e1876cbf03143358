/**
 * Runs the main example (examples/basic/app.ts) for real: three backend processes plus a hot
 * standby, the Express app on an ephemeral port, real HTTP requests through it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { start, type Backend, type Started } from '../../examples/basic/app.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: { backend: string; route: string; pid: number; url: string; cookie: string | null };
}

function get(base: string, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(body) as Answer['json'] });
        } catch (err) {
          reject(new Error(`${path}: status ${res.statusCode ?? '?'}, body ${JSON.stringify(body)}`, { cause: err }));
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${path}: client timeout`)));
    req.on('error', reject);
  });
}

function text(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (body += c));
        r.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** Posts a manager form the way the browser does (same-origin Referer); resolves the status. */
function postForm(url: string, fields: Record<string, string>): Promise<number> {
  const body = new URLSearchParams(fields).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          referer: url,
        },
      },
      (r) => {
        r.resume();
        r.on('end', () => resolve(r.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitUntilGone(pids: number[], ms = 5000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let alive = pids.filter(isRunning);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(isRunning);
  }
  return alive;
}

describe('examples/basic/app.ts', () => {
  let app: Started | undefined;

  before(async () => {
    app = await start({ port: 0 });
  });

  after(async () => {
    if (!app) return;
    const pids = [...app.backends, app.extra].map((b) => b.pid);
    await app.stop();
    const alive = await waitUntilGone(pids, 1000);
    // Do not leave processes behind even when an assertion failed.
    for (const pid of alive) process.kill(pid, 'SIGKILL');
  });

  it('starts four backend processes on loopback ports', () => {
    assert.ok(app);
    assert.match(app.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      app.backends.map((b) => b.name),
      ['app1', 'app2', 'app3', 'spare'],
    );
    const pids = new Set(app.backends.map((b) => b.pid));
    assert.equal(pids.size, 4);
    assert.ok(!pids.has(process.pid));
    for (const b of app.backends) {
      assert.ok(isRunning(b.pid), `${b.name} (pid ${b.pid}) is running`);
      assert.match(b.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    }
    const basic = app.lb.get('balancer://basic');
    assert.ok(basic, 'balancer://basic exists');
    assert.equal(basic.workers.length, 4);
  });

  it('answers its own index page outside the mount', async () => {
    assert.ok(app);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get(`${app!.url}/`, { agent: false }, (r) => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (body += c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    assert.equal(res.status, 200);
    assert.match(res.body, /express-proxy-balancer example/);
  });

  it('spreads 8 requests 2:2:4 by loadfactor and never uses the hot standby', async () => {
    assert.ok(app);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 8; i++) {
      const r = await get(app.url, `/app/item/${i}?q=${i}`);
      assert.equal(r.status, 200);
      // The mount maps /app/... to /... on the worker, query kept.
      assert.equal(r.json.url, `/item/${i}?q=${i}`);
      const backend: Backend | undefined = app.backends.find((b) => b.name === r.json.backend);
      if (!backend) assert.fail(`answer from an unknown backend: ${r.json.backend}`);
      assert.equal(r.json.pid, backend.pid, 'answered by that backend process');
      counts[r.json.backend] = (counts[r.json.backend] ?? 0) + 1;
    }
    assert.deepEqual(counts, { app1: 2, app2: 2, app3: 4 });
  });

  it('keeps a client with a JSESSIONID on its route', async () => {
    assert.ok(app);
    const login = await get(app.url, '/app/login');
    assert.equal(login.status, 200);
    const setCookie = login.headers['set-cookie']?.[0];
    assert.ok(setCookie, 'the backend set a session cookie');
    const cookie = setCookie.split(';')[0]!;
    assert.match(cookie, new RegExp(`^JSESSIONID=[0-9a-f]+\\.${login.json.route}$`));
    for (let i = 0; i < 5; i++) {
      const r = await get(app.url, '/app/cart', { cookie });
      assert.equal(r.json.backend, login.json.backend);
      assert.equal(r.headers['x-balancer-worker-route'], login.json.route);
    }
  });

  it('lets the manager add app4, the backend started outside the balancer, and sends it traffic', async () => {
    assert.ok(app);
    const manager = `${app.url}/balancer-manager`;
    const page = await text(`${manager}?b=basic`);
    assert.match(page, /<input[^>]* name="b_nwrkr"/, 'the balancer form offers "Add New Worker"');
    assert.match(page, /Add New Worker \(2 free\)/);
    assert.match(page, /name="b_wyes"/);
    const nonce = /name="nonce" value="([0-9a-f-]{36})"/.exec(page)?.[1];
    assert.ok(nonce, 'the form carries its nonce');
    assert.equal(app.extra.name, 'app4');
    assert.equal(await postForm(manager, { b: 'basic', nonce, b_nwrkr: app.extra.url, b_wyes: '1' }), 303);
    const w = app.extra.url;
    assert.equal(await postForm(manager, { b: 'basic', w, nonce, w_wr: 'app4', w_status_D: '0' }), 303);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await get(app.url, `/app/n${i}`)).json.backend);
    assert.deepEqual([...seen].sort(), ['app1', 'app2', 'app3', 'app4']);
  });

  it('stop() ends every backend process', async () => {
    assert.ok(app);
    const pids = [...app.backends, app.extra].map((b) => b.pid);
    await app.stop();
    assert.deepEqual(await waitUntilGone(pids), [], 'no backend process left running');
    // Idempotent.
    await app.stop();
  });
});
