import { after, afterEach, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type http from 'node:http';
import type { BalancerConfig, ErrorInfo, MemberOptions } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { startUpstreams, stopAll } from '../support/upstreams.js';
import { ProcessGuard } from './helpers/guard.js';
import { assertIdle, startProxy, type Proxy } from './helpers/proxy.js';
import { send } from './helpers/client.js';
import { hasIpv6Loopback, httpBackend, serverBackend, type Backend } from './helpers/backends.js';
import { makeCert } from './helpers/tls-cert.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

async function setup(
  t: TestContext,
  members: MemberOptions[],
  opts: { host?: string; global?: Partial<BalancerConfig> } = {},
): Promise<{ p: Proxy; errors: ErrorInfo[] }> {
  const errors: ErrorInfo[] = [];
  const p = await startProxy(
    {
      balancers: [{ name: 'app', mount: '/app', members }],
      clock: new FakeClock(),
      exposeHeaders: true,
      serverName: 'proxy.test',
      onError: (info, _req, res) => {
        errors.push(info);
        res.writeHead(info.status, { 'content-type': 'text/plain' });
        res.end(info.error.code);
      },
      ...opts.global,
    },
    opts.host === undefined ? {} : { host: opts.host },
  );
  t.after(() => p.close());
  return { p, errors };
}

function inError(p: Proxy): boolean[] {
  return p.mw.balancers[0]!.workers.map((w) => w.inError);
}

interface Seen {
  url: string;
  host: string | undefined;
  xff: string | undefined;
  remote: string | undefined;
}

function recorder(seen: Seen[], name: string): http.RequestListener {
  return (req, res) => {
    seen.push({
      url: req.url ?? '',
      host: req.headers.host,
      xff: req.headers['x-forwarded-for'] as string | undefined,
      remote: req.socket.remoteAddress,
    });
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
    res.end(`hello from ${name}`);
  };
}

const ipv6 = await hasIpv6Loopback();

describe('IPv6 loopback', { skip: ipv6 ? false : 'no IPv6 loopback (::1) on this machine' }, () => {
  test('a member on http://[::1]:port is reached, with Host [::1]:port', async (t) => {
    const seen: Seen[] = [];
    const b = await httpBackend(recorder(seen, 'v6'), '::1');
    t.after(() => b.close());
    assert.match(b.url, /^http:\/\/\[::1\]:\d+$/);
    const { p } = await setup(t, [{ url: `${b.url}/base` }]);
    const r = await send(p.base, '/app/x?y=1');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello from v6');
    assert.equal(r.headers['x-balancer-worker-name'], `${b.url}/base`);
    assert.deepEqual(seen, [{ url: '/base/x?y=1', host: `[::1]:${b.port}`, xff: '127.0.0.1', remote: '::1' }]);
    await assertIdle(p.mw);
  });

  test('a refusing [::1] member fails over to another [::1] member', async (t) => {
    const seen: Seen[] = [];
    const dead = await httpBackend(recorder([], 'dead'), '::1');
    const deadUrl = dead.url;
    await dead.close();
    const b = await httpBackend(recorder(seen, 'v6'), '::1');
    t.after(() => b.close());
    const { p } = await setup(t, [{ url: deadUrl }, { url: b.url }]);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'v6');
    assert.deepEqual(inError(p), [true, false]);
    assert.equal(seen.length, 1);
    await assertIdle(p.mw);
  });

  test('a client on ::1 is reported as ::1 in X-Forwarded-For', async (t) => {
    const [a] = await startUpstreams('a');
    t.after(() => stopAll([a!]));
    const { p } = await setup(t, [{ url: a!.url }], { host: '::1' });
    assert.match(p.base, /^http:\/\/\[::1\]:/);
    const r = await send(p.base, '/app/x', { headers: { 'x-forwarded-for': '2001:db8::7' } });
    assert.equal(r.status, 200);
    assert.equal(a!.hits[0]!.headers['x-forwarded-for'], '2001:db8::7, ::1');
    await assertIdle(p.mw);
  });
});

const cert = makeCert();

describe('https members', { skip: cert ? false : 'openssl CLI missing or failed: no test certificate' }, () => {
  let tlsBackend: Backend<https.Server>;
  const seen: Seen[] = [];
  before(async () => {
    tlsBackend = await serverBackend(https.createServer({ ...cert! }, recorder(seen, 'tls')), '127.0.0.1', 'https');
  });
  after(() => tlsBackend.close());
  afterEach(() => {
    seen.length = 0;
  });

  test('a self-signed certificate fails verification by default: 503 and the worker is marked', async (t) => {
    const { p, errors } = await setup(t, [{ url: tlsBackend.url }]);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 503);
    assert.equal(errors[0]?.error.code, 'ERR_WORKER_CONNECT');
    assert.deepEqual(inError(p), [true]);
    assert.equal(seen.length, 0, 'no request went over the unverified connection');
    await assertIdle(p.mw);
  });

  test('a failed verification fails over like a refused connect', async (t) => {
    const [b] = await startUpstreams('b');
    t.after(() => stopAll([b!]));
    const { p } = await setup(t, [{ url: tlsBackend.url }, { url: b!.url }]);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'b');
    assert.deepEqual(inError(p), [true, false]);
    assert.equal(seen.length, 0);
    await assertIdle(p.mw);
  });

  test('tls: { ca } trusts the certificate', async (t) => {
    const { p } = await setup(t, [{ url: `${tlsBackend.url}/secure`, tls: { ca: cert!.cert } }]);
    for (let i = 0; i < 3; i++) {
      const r = await send(p.base, `/app/x${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'hello from tls');
    }
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/secure/x0', '/secure/x1', '/secure/x2'],
    );
    assert.equal(seen[0]!.host, `127.0.0.1:${tlsBackend.port}`);
    assert.deepEqual(inError(p), [false]);
    await assertIdle(p.mw);
  });

  test('tls: { ca } still checks the name (servername that the certificate does not cover -> 503)', async (t) => {
    const { p } = await setup(t, [{ url: tlsBackend.url, tls: { ca: cert!.cert, servername: 'other.example' } }]);
    assert.equal((await send(p.base, '/app/x')).status, 503);
    assert.deepEqual(inError(p), [true]);
    assert.equal(seen.length, 0);
    await assertIdle(p.mw);
  });

  test('tls: { rejectUnauthorized: false } accepts the self-signed certificate', async (t) => {
    const { p } = await setup(t, [{ url: tlsBackend.url, tls: { rejectUnauthorized: false } }]);
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'hello from tls');
    assert.equal(seen.length, 1);
    await assertIdle(p.mw);
  });
});
