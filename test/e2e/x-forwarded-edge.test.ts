// xForwarded: 'edge' replaces what the client claims about earlier hops; true (the default,
// Apache's behaviour) appends to it; false passes it through. Real backends record what arrives.
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { WebSocket, WebSocketServer } from 'ws';
import { balancer, ConfigError } from '../../lib/index.js';
import type { BalancerConfig } from '../../lib/index.js';
import { validateConfig } from '../../lib/config/validate.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { assertIdle, startProxy } from './helpers/proxy.js';
import { send } from './helpers/client.js';
import { serverBackend } from './helpers/backends.js';
import { makeCert } from './helpers/tls-cert.js';

/** What a client might claim, true or not. */
const CLAIMS = {
  'x-forwarded-for': '203.0.113.9',
  'x-forwarded-host': 'claimed.example',
  'x-forwarded-server': 'claimed-proxy.example',
  'x-forwarded-proto': 'https',
  forwarded: 'for=203.0.113.9;proto=https',
};

const NAMES = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-server', 'x-forwarded-proto', 'forwarded'] as const;

function forwarding(h: http.IncomingHttpHeaders): Record<string, unknown> {
  return Object.fromEntries(NAMES.map((n) => [n, h[n]]));
}

function config(url: string, xForwarded: BalancerConfig['xForwarded']): BalancerConfig {
  return {
    balancers: [{ name: 'app', mount: '/app', members: [{ url }] }],
    serverName: 'proxy.test',
    ...(xForwarded === undefined ? {} : { xForwarded }),
  };
}

describe('the xForwarded option', () => {
  const global = (v: unknown) => validateConfig({ ...config('http://127.0.0.1:1', undefined), xForwarded: v }).global;

  test('takes "edge", booleans and "On"/"Off"; true by default', () => {
    assert.equal(global('edge').xForwarded, 'edge');
    assert.equal(global(undefined).xForwarded, true);
    assert.equal(global(false).xForwarded, false);
    assert.equal(global('On').xForwarded, true);
    assert.equal(global('off').xForwarded, false);
  });

  for (const bad of [1, 'EDGE', 'replace', null]) {
    test(`refuses ${JSON.stringify(bad)}, naming the field and the choices`, () => {
      assert.throws(
        () => global(bad),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message === `xForwarded: ${JSON.stringify(bad)} is not true, false, "On", "Off" or "edge"`,
      );
    });
  }
});

describe('HTTP requests', () => {
  let a: Upstream;
  before(async () => {
    [a] = (await startUpstreams('a')) as [Upstream];
  });
  after(() => stopAll([a]));

  async function arrived(t: TestContext, xForwarded: BalancerConfig['xForwarded'], headers: http.OutgoingHttpHeaders) {
    const p = await startProxy(config(a.url, xForwarded));
    t.after(() => p.close());
    const r = await send(p.base, '/app/h', { headers: { host: 'front.example', ...headers } });
    assert.equal(r.status, 200);
    await assertIdle(p.mw);
    return forwarding(a.hits.at(-1)!.headers);
  }

  test("'edge': the client's X-Forwarded-* are replaced by this connection's, its Forwarded dropped", async (t) => {
    assert.deepEqual(await arrived(t, 'edge', CLAIMS), {
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': 'front.example',
      'x-forwarded-server': 'proxy.test',
      'x-forwarded-proto': 'http',
      forwarded: undefined,
    });
  });

  test("'edge': a client that sends none gets the same", async (t) => {
    assert.deepEqual(await arrived(t, 'edge', {}), {
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': 'front.example',
      'x-forwarded-server': 'proxy.test',
      'x-forwarded-proto': 'http',
      forwarded: undefined,
    });
  });

  test("'edge': naming them in Connection does not remove what the balancer sets", async (t) => {
    const named = { ...CLAIMS, connection: 'keep-alive, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host' };
    assert.deepEqual(await arrived(t, 'edge', named), {
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': 'front.example',
      'x-forwarded-server': 'proxy.test',
      'x-forwarded-proto': 'http',
      forwarded: undefined,
    });
  });

  test('true (default): appended to, like Apache; X-Forwarded-Proto and Forwarded pass through', async (t) => {
    assert.deepEqual(await arrived(t, undefined, CLAIMS), {
      'x-forwarded-for': '203.0.113.9, 127.0.0.1',
      'x-forwarded-host': 'claimed.example, front.example',
      'x-forwarded-server': 'claimed-proxy.example, proxy.test',
      'x-forwarded-proto': 'https',
      forwarded: 'for=203.0.113.9;proto=https',
    });
  });

  test("false: the client's headers pass through unchanged", async (t) => {
    assert.deepEqual(await arrived(t, false, CLAIMS), CLAIMS);
  });
});

const cert = makeCert();

describe('HTTPS clients', { skip: cert ? false : 'openssl CLI missing or failed: no test certificate' }, () => {
  test("'edge': X-Forwarded-Proto is https on a TLS connection, whatever the client says", async (t) => {
    const [a] = (await startUpstreams('a')) as [Upstream];
    t.after(() => stopAll([a]));
    const lb = balancer(config(a.url, 'edge'));
    t.after(() => lb.close(0));
    const front = await serverBackend(https.createServer({ ...cert! }, (req, res) => lb(req, res)));
    t.after(() => front.close());
    const status = await new Promise<number | undefined>((resolve, reject) => {
      https
        .get(
          { host: '127.0.0.1', port: front.port, path: '/app/h', ca: cert!.cert, agent: false, headers: CLAIMS },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          },
        )
        .on('error', reject);
    });
    assert.equal(status, 200);
    assert.deepEqual(forwarding(a.hits[0]!.headers), {
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': `127.0.0.1:${front.port}`,
      'x-forwarded-server': 'proxy.test',
      'x-forwarded-proto': 'https',
      forwarded: undefined,
    });
  });
});

describe('WebSocket upgrades', () => {
  test("'edge': the handshake the worker gets carries the replaced headers", async (t) => {
    const backend = http.createServer();
    const wss = new WebSocketServer({ server: backend });
    const heads: http.IncomingHttpHeaders[] = [];
    wss.on('connection', (ws, req) => {
      heads.push(req.headers);
      ws.on('message', (m: Buffer) => ws.send(`echo:${m.toString()}`));
    });
    const back = await serverBackend(backend);
    t.after(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await back.close();
    });
    const lb = balancer(config(back.url, 'edge'));
    t.after(() => lb.close(0));
    const front = await serverBackend(lb.attach(http.createServer((req, res) => lb(req, res))));
    t.after(() => front.close());
    const reply = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${front.port}/app/ws`, {
        headers: CLAIMS,
      });
      ws.on('open', () => ws.send('hi'));
      ws.on('message', (m: Buffer) => {
        resolve(m.toString());
        ws.close();
      });
      ws.on('error', reject);
    });
    assert.equal(reply, 'echo:hi');
    assert.deepEqual(forwarding(heads[0]!), {
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': `127.0.0.1:${front.port}`,
      'x-forwarded-server': 'proxy.test',
      'x-forwarded-proto': 'http',
      forwarded: undefined,
    });
  });
});
