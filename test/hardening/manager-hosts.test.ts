/**
 * The manager answers only to hosts it knows: loopback names, the address a connection arrived on
 * and `allowedHosts`. Under DNS rebinding the Host and Origin are both the attacker's name, so the
 * same-origin check alone passes; the Host check refuses every request, reads included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { balancer, managerRouter } from '../../lib/index.js';
import { ConfigError } from '../../lib/errors.js';
import { request, type Reply } from '../support/http.js';
import { startUpstreams, stopAll } from '../support/upstreams.js';
import { api, nonceOf, setup, type Setup } from '../manager/helpers.js';

function errorOf(r: Reply): { code: string; message: string } {
  return (JSON.parse(r.body) as { error: { code: string; message: string } }).error;
}

/** Every kind of manager request with this Host (and, as a browser on that host would send, Origin). */
async function everyRequest(s: Setup, host: string, nonce: string): Promise<Reply[]> {
  const origin = `http://${host}`;
  const path = new URL(s.manager).pathname;
  const headers = { host, origin };
  return [
    await request(s.manager, `${path}/api`, { headers }),
    await request(s.manager, `${path}/api/balancers/oracle`, { headers }),
    await request(s.manager, path, { headers }),
    await request(s.manager, `${path}?xml=1`, { headers }),
    await request(s.manager, `${path}/api/balancers/oracle`, {
      method: 'PATCH',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, maxattempts: 0 }),
    }),
    await request(s.manager, path, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: `b=oracle&nonce=${nonce}&b_max=0`,
    }),
  ];
}

test('DNS rebinding: Host and Origin both rebind.attacker.example:PORT get 403 on GET /api, the page and PATCH', async (t) => {
  const s = await setup(t);
  const nonce = await nonceOf(s);
  const host = `rebind.attacker.example:${new URL(s.base).port}`;
  const replies = await everyRequest(s, host, nonce);
  for (const [i, r] of replies.entries()) {
    assert.equal(r.status, 403, `request ${i}: ${r.body.slice(0, 200)}`);
    assert.ok(!r.body.includes(nonce), `request ${i} shows no nonce`);
    const e = errorOf(r);
    assert.equal(e.code, 'ERR_MANAGER_HOST');
    assert.equal(
      e.message,
      `Host "${host}" is not an allowed host of the balancer-manager (add it to managerRouter's allowedHosts)`,
    );
  }
  assert.equal(s.lb.balancers[0]!.maxattemptsSet, undefined, 'nothing changed');
});

test('Host values that are not host[:port] are refused, even when Origin names what a URL parser reads in them', async (t) => {
  const s = await setup(t);
  const nonce = await nonceOf(s);
  const port = new URL(s.base).port;
  for (const host of [
    `evil.com/127.0.0.1:${port}`,
    'x@evil.com',
    `evil.com@127.0.0.1:${port}`,
    `127.0.0.1:${port}@evil.com`,
    `evil.com\\127.0.0.1:${port}`,
    `evil.com#127.0.0.1:${port}`,
    `evil.com?127.0.0.1:${port}`,
    `127.0.0.1:${port}:${port}`,
    '127.0.0.1:99999',
    '127.0.0.1:',
    `localhost:${port}%2f`,
    '[::1',
  ]) {
    const replies = await everyRequest(s, host, nonce);
    for (const [i, r] of replies.entries()) {
      assert.equal(r.status, 403, `${host}, request ${i}: ${r.body.slice(0, 200)}`);
      assert.equal(errorOf(r).message, `Host ${JSON.stringify(host)} is not host[:port]`);
    }
  }
  assert.equal(s.lb.balancers[0]!.maxattemptsSet, undefined, 'nothing changed');
});

test('a request without a Host header (HTTP/1.0) is refused', async (t) => {
  const s = await setup(t);
  const { port } = new URL(s.base);
  const path = new URL(s.manager).pathname;
  const raw = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => sock.end(`GET ${path}/api HTTP/1.0\r\n\r\n`));
    let data = '';
    sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 403 /);
  const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };
  assert.deepEqual(body.error, { code: 'ERR_MANAGER_HOST', message: 'the request has no Host header', field: null });
});

test('loopback names and the address the connection arrived on are allowed by default', async (t) => {
  const [up] = await startUpstreams('a');
  const lb = balancer({ balancers: [{ name: 'oracle', mount: '/app', members: [{ url: up!.url }] }] });
  const app = express();
  app.use('/m', managerRouter(lb));
  // Listening on 127.0.0.2: neither a loopback name nor 127.0.0.1, only the local address.
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', () => r()));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await lb.close(100);
    await stopAll([up!]);
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.2:${port}`;
  for (const host of [
    `127.0.0.2:${port}`,
    '127.0.0.2',
    `localhost:${port}`,
    'LOCALHOST',
    '127.0.0.1:1',
    '[::1]:8080',
  ]) {
    const r = await request(base, '/m/api', { headers: { host } });
    assert.equal(r.status, 200, `${host}: ${r.body.slice(0, 200)}`);
  }
  for (const host of [`127.0.0.3:${port}`, `localhost.example:${port}`, `[::2]:${port}`]) {
    const r = await request(base, '/m/api', { headers: { host } });
    assert.equal(r.status, 403, host);
    assert.equal(errorOf(r).code, 'ERR_MANAGER_HOST');
  }
});

test('allowedHosts admits configured names (any port, or only the port given); changes still need the same origin', async (t) => {
  const s = await setup(t, { manager: { allowedHosts: ['Admin.Example.com', 'ops.example.com:8443'] } });
  const nonce = await nonceOf(s);
  const path = new URL(s.manager).pathname;
  for (const host of ['admin.example.com', 'ADMIN.example.com:9000', 'ops.example.com:8443']) {
    assert.equal((await request(s.manager, `${path}/api`, { headers: { host } })).status, 200, host);
  }
  for (const host of ['ops.example.com:9000', 'ops.example.com', 'example.com', 'x.admin.example.com']) {
    const r = await request(s.manager, `${path}/api`, { headers: { host } });
    assert.equal(r.status, 403, host);
    assert.equal(errorOf(r).code, 'ERR_MANAGER_HOST');
  }
  const cross = await api(
    s,
    'PATCH',
    '/balancers/oracle',
    { nonce, maxattempts: 0 },
    { headers: { host: 'admin.example.com' } },
  );
  assert.equal(cross.status, 403, 'Origin is the server address, Host the admin name');
  assert.equal(errorOf(cross).code, 'ERR_MANAGER_ORIGIN');
  const ok = await api(
    s,
    'PATCH',
    '/balancers/oracle',
    { nonce, maxattempts: 0 },
    { origin: 'http://admin.example.com', headers: { host: 'admin.example.com' } },
  );
  assert.equal(ok.status, 200, ok.body);
  assert.equal(s.lb.balancers[0]!.maxattemptsSet, 0);
});

test('allowedHosts entries that are not host[:port] throw a ConfigError naming the entry', async (t) => {
  const [up] = await startUpstreams('a');
  const lb = balancer({ balancers: [{ name: 'oracle', mount: '/app', members: [{ url: up!.url }] }] });
  t.after(async () => {
    await lb.close(100);
    await stopAll([up!]);
  });
  for (const [hosts, field] of [
    [['ok.example', 'http://admin.example.com'], 'allowedHosts[1]'],
    [['a/b'], 'allowedHosts[0]'],
    [[''], 'allowedHosts[0]'],
    [[42], 'allowedHosts[0]'],
    ['admin.example.com', 'allowedHosts'],
  ] as const) {
    assert.throws(
      () => managerRouter(lb, { allowedHosts: hosts as unknown as string[] }),
      (e: unknown) => e instanceof ConfigError && e.field === field && e.code === 'ERR_CONFIG_INVALID',
      JSON.stringify(hosts),
    );
  }
});
