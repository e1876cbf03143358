/**
 * proxypassreverse (Apache ProxyPassReverse): a worker's Location, Content-Location and URI headers
 * that point at the worker are rewritten to the mount, for real workers that redirect: absolute and
 * relative, with a base path, over https and on IPv6; other headers and other hosts are left alone.
 */
import { after, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type http from 'node:http';
import type { BalancerOptions } from '../../lib/index.js';
import { startProxy, type Proxy } from './helpers/proxy.js';
import { send } from './helpers/client.js';
import { hasIpv6Loopback, httpBackend, serverBackend, type Backend } from './helpers/backends.js';
import { makeCert } from './helpers/tls-cert.js';

/** A worker that redirects to the ?to= value, with the same value in Content-Location and URI. */
const redirector: http.RequestListener = (req, res) => {
  const to = new URL(req.url ?? '/', 'http://x').searchParams.get('to') ?? '/';
  res.writeHead(302, { Location: to, 'Content-Location': to, URI: to, 'X-Other': to, 'Content-Length': 0 });
  res.end();
};

const ipv6 = await hasIpv6Loopback();
const backends: Backend[] = [];
after(async () => {
  for (const b of backends) await b.close();
});

async function worker(host = '127.0.0.1'): Promise<Backend> {
  const b = await httpBackend(redirector, host);
  backends.push(b);
  return b;
}

async function proxy(
  t: TestContext,
  balancer: Partial<BalancerOptions> & { members: BalancerOptions['members'] },
): Promise<Proxy> {
  const p = await startProxy({
    balancers: [{ name: 'app', mount: '/app', proxypassreverse: true, ...balancer }],
    logger: false,
  });
  t.after(() => p.close());
  return p;
}

async function redirect(p: Proxy, to: string, headers?: http.OutgoingHttpHeaders): Promise<http.IncomingHttpHeaders> {
  const r = await send(p.base, `/app/go?to=${encodeURIComponent(to)}`, headers ? { headers } : {});
  assert.equal(r.status, 302);
  return r.headers;
}

describe('proxypassreverse', () => {
  test('an absolute URL on the worker becomes the same place below the mount, on the client-facing origin', async (t) => {
    const w = await worker();
    const p = await proxy(t, { members: [{ url: w.url }] });
    const h = await redirect(p, `${w.url}/login?next=%2Fa#top`);
    assert.equal(h.location, `${p.base}/app/login?next=%2Fa#top`);
    assert.equal(h['content-location'], `${p.base}/app/login?next=%2Fa#top`);
    assert.equal(h.uri, `${p.base}/app/login?next=%2Fa#top`);
    assert.equal(h['x-other'], `${w.url}/login?next=%2Fa#top`);
    assert.equal((await redirect(p, w.url)).location, `${p.base}/app/`);
  });

  test('relative paths are put below the mount; other hosts and schemes are left alone', async (t) => {
    const w = await worker();
    const p = await proxy(t, { members: [{ url: w.url }] });
    assert.equal((await redirect(p, '/login')).location, '/app/login');
    assert.equal((await redirect(p, '/')).location, '/app/');
    assert.equal((await redirect(p, 'http://elsewhere.test/login')).location, 'http://elsewhere.test/login');
    assert.equal((await redirect(p, '//elsewhere.test/x')).location, '//elsewhere.test/x');
    assert.equal((await redirect(p, `https://127.0.0.1:${w.port}/x`)).location, `https://127.0.0.1:${w.port}/x`);
    assert.equal((await redirect(p, 'relative/path')).location, 'relative/path');
  });

  test('with a member base path and a balancer path, only URLs below them are rewritten', async (t) => {
    const w = await worker();
    const p = await proxy(t, { mount: '/shop/', path: '/v1/', members: [{ url: `${w.url}/base` }] });
    const r = await send(p.base, `/shop/go?to=${encodeURIComponent('/base/v1/cart')}`);
    assert.equal(r.headers.location, '/shop/cart');
    const abs = await send(p.base, `/shop/go?to=${encodeURIComponent(`${w.url}/base/v1/cart?x=1`)}`);
    assert.equal(abs.headers.location, `${p.base}/shop/cart?x=1`);
    const outside = await send(p.base, `/shop/go?to=${encodeURIComponent('/base/v10/x')}`);
    assert.equal(outside.headers.location, '/base/v10/x');
  });

  test('off by default: Location passes through unchanged', async (t) => {
    const w = await worker();
    const p = await proxy(t, { proxypassreverse: false, members: [{ url: w.url }] });
    assert.equal((await redirect(p, `${w.url}/login`)).location, `${w.url}/login`);
    assert.equal((await redirect(p, '/login')).location, '/login');
  });

  test('a Host header that is not a plain host gives a path, never a URL built from it', async (t) => {
    const w = await worker();
    const p = await proxy(t, { members: [{ url: w.url }] });
    assert.equal((await redirect(p, `${w.url}/login`, { host: 'evil.test/x?' })).location, '/app/login');
    assert.equal(
      (await redirect(p, `${w.url}/login`, { host: 'proxy.test:8443' })).location,
      'http://proxy.test:8443/app/login',
    );
  });

  const cert = makeCert();
  test('an https worker', { skip: cert ? false : 'no test certificate' }, async (t) => {
    const b = await serverBackend(https.createServer({ ...cert! }, redirector), '127.0.0.1', 'https');
    backends.push(b);
    const p = await proxy(t, { members: [{ url: b.url, tls: { ca: cert!.cert } }] });
    assert.equal((await redirect(p, `${b.url}/secure`)).location, `${p.base}/app/secure`);
    assert.equal(
      (await redirect(p, `http://127.0.0.1:${b.port}/secure`)).location,
      `http://127.0.0.1:${b.port}/secure`,
    );
  });

  test('an IPv6 worker', { skip: ipv6 ? false : 'no IPv6 loopback' }, async (t) => {
    const w = await worker('::1');
    const p = await proxy(t, { members: [{ url: w.url }] });
    assert.equal((await redirect(p, `http://[::1]:${w.port}/six`)).location, `${p.base}/app/six`);
    assert.equal((await redirect(p, `http://[0:0::1]:${w.port}/six`)).location, `${p.base}/app/six`);
  });
});
