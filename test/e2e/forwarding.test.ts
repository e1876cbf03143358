import { after, afterEach, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import type { BalancerConfig, MemberOptions } from '../../lib/index.js';
import { Upstream } from '../support/upstreams.js';
import { ProcessGuard } from './helpers/guard.js';
import { assertIdle, listenProxy, startProxy, type AppKind, type Proxy } from './helpers/proxy.js';
import { echo, pattern, send, sha256, type Result } from './helpers/client.js';
import { httpBackend } from './helpers/backends.js';
import http from 'node:http';
import { balancer } from '../../lib/index.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

let a: Upstream;
before(async () => {
  a = await new Upstream('a').start();
});
after(() => a.stop());

function config(
  members: MemberOptions[],
  extra: Partial<BalancerConfig> = {},
  mount = '/app',
  path?: string,
): BalancerConfig {
  return { balancers: [{ name: 'app', mount, ...(path && { path }), members }], serverName: 'proxy.test', ...extra };
}

async function proxy(t: TestContext, cfg: BalancerConfig): Promise<Proxy> {
  const p = await startProxy(cfg);
  t.after(() => p.close());
  return p;
}

/** Writes the chunks `next` returns until undefined, waiting for 'drain' whenever write() says so; then ends. */
function writeRespectingDrain(res: http.ServerResponse, next: () => Buffer | undefined): void {
  const pump = (): void => {
    for (let chunk = next(); chunk !== undefined; chunk = next()) {
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** The last request `a` recorded. */
function lastHit(): (typeof a.hits)[number] {
  const h = a.hits.at(-1);
  assert.ok(h, 'the upstream got no request');
  return h;
}

describe('path mapping', () => {
  test('mount /app maps to the worker root; /app itself to /', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    for (const [path, expected] of [
      ['/app/x', '/x'],
      ['/app/x/y/', '/x/y/'],
      ['/app', '/'],
      ['/app/', '/'],
      ['/app;jsessionid=1', '/;jsessionid=1'],
    ] as const) {
      const r = await send(p.base, path);
      assert.equal(r.status, 200, path);
      assert.equal(echo(r).url, expected, path);
      assert.equal(lastHit().url, expected, path);
    }
    await assertIdle(p.mw);
  });

  test('a worker base path is a prefix: http://h:p/base + /x -> /base/x', async (t) => {
    const p = await proxy(t, config([{ url: `${a.url}/base` }]));
    const r = await send(p.base, '/app/x?y=1');
    assert.equal(r.status, 200);
    assert.equal(lastHit().url, '/base/x?y=1');
    const r2 = await send(p.base, '/app/deep/er/path');
    assert.equal(r2.status, 200);
    assert.equal(lastHit().url, '/base/deep/er/path');
    await assertIdle(p.mw);
  });

  test('the balancer path option is inserted after the worker base (ProxyPass /app balancer://c/svc)', async (t) => {
    const p = await proxy(t, config([{ url: a.url }], {}, '/app', '/svc'));
    assert.equal((await send(p.base, '/app/x')).status, 200);
    assert.equal(lastHit().url, '/svc/x');
    const p2 = await proxy(t, config([{ url: `${a.url}/modules` }], {}, '/pr45434', '/alias'));
    assert.equal((await send(p2.base, '/pr45434/x')).status, 200);
    assert.equal(lastHit().url, '/modules/alias/x');
    await assertIdle(p.mw);
    await assertIdle(p2.mw);
  });

  test('query strings and percent-encoding reach the worker untouched', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    const path = '/app/a%20b/c%3Bd?q=1%202&r=%2F&s=a+b&t=%E2%82%AC&empty=&flag';
    const r = await send(p.base, path);
    assert.equal(r.status, 200);
    assert.equal(lastHit().url, '/a%20b/c%3Bd?q=1%202&r=%2F&s=a+b&t=%E2%82%AC&empty=&flag');
    await assertIdle(p.mw);
  });

  test('the request target reaches the worker as forwarded before: empty query kept, slashes merged', async (t) => {
    const p = await proxy(t, config([{ url: `${a.url}/base` }]));
    for (const [path, expected] of [
      ['/app/x?', '/base/x?'],
      ['/app/x??y', '/base/x??y'],
      ['/app//x//y?z=//w', '/base/x/y?z=//w'],
      ['/app/go/http:/elsewhere', '/base/go/http://elsewhere'],
    ] as const) {
      assert.equal((await send(p.base, path)).status, 200, path);
      assert.equal(lastHit().url, expected, path);
    }
    await assertIdle(p.mw);
  });

  test('dot segments are resolved below the mount', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    const r = await send(p.base, '/app/a/./b/../c');
    assert.equal(r.status, 200);
    assert.equal(lastHit().url, '/a/c');
    const r2 = await send(p.base, '/app/x/%2e%2E/y?z=../w');
    assert.equal(r2.status, 200);
    assert.equal(lastHit().url, '/y?z=../w', 'dots in the query are not path segments');
    const before = a.hits.length;
    for (const escape of ['/app/../admin', '/app/%2e%2e/admin', '/app/x/../../admin']) {
      const out = await send(p.base, escape);
      assert.equal(out.status, 400, `${escape} climbs out of the mount: ERR_BAD_PATH`);
    }
    assert.equal(a.hits.length, before, 'nothing outside the mount reached the worker');
    await assertIdle(p.mw);
  });

  test('requests outside the mount fall through to next(): later routes and Express 404', async (t) => {
    const mw = balancer(config([{ url: a.url }]));
    const app = express();
    app.use(mw);
    app.get('/other', (_req, res) => {
      res.send('other route');
    });
    const p = await listenProxy(http.createServer(app), mw);
    t.after(() => p.close());
    const before = a.hits.length;
    const other = await send(p.base, '/other');
    assert.equal(other.status, 200);
    assert.equal(other.body.toString(), 'other route');
    for (const path of ['/apple', '/ap', '/', '/App/x']) {
      const r = await send(p.base, path);
      assert.equal(r.status, 404, path);
      assert.match(r.body.toString(), /Cannot GET/, path);
    }
    assert.equal(a.hits.length, before);
    assert.equal((await send(p.base, '/app/in')).status, 200);
    await assertIdle(p.mw);
  });
});

describe('request headers', () => {
  test('X-Forwarded-For/-Host/-Server are added when absent', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    const r = await send(p.base, '/app/h');
    assert.equal(r.status, 200);
    const h = lastHit().headers;
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-host'], new URL(p.base).host);
    assert.equal(h['x-forwarded-server'], 'proxy.test');
    await assertIdle(p.mw);
  });

  test('existing X-Forwarded-* values are kept and appended to, like Apache', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    const r = await send(p.base, '/app/h', {
      headers: {
        host: 'front.example',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-host': 'orig.example',
        'x-forwarded-server': 'edge.example',
      },
    });
    assert.equal(r.status, 200);
    const h = lastHit().headers;
    assert.equal(h['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(h['x-forwarded-host'], 'orig.example, front.example');
    assert.equal(h['x-forwarded-server'], 'edge.example, proxy.test');
    await assertIdle(p.mw);
  });

  test('xForwarded: false adds none of them', async (t) => {
    const p = await proxy(t, config([{ url: a.url }], { xForwarded: false }));
    assert.equal((await send(p.base, '/app/h')).status, 200);
    const h = lastHit().headers;
    assert.equal(h['x-forwarded-for'], undefined);
    assert.equal(h['x-forwarded-host'], undefined);
    assert.equal(h['x-forwarded-server'], undefined);
    await assertIdle(p.mw);
  });

  test('Host is rewritten to the worker, or kept with preserveHost: true', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    assert.equal((await send(p.base, '/app/h', { headers: { host: 'front.example' } })).status, 200);
    assert.equal(lastHit().headers.host, `127.0.0.1:${a.port}`);
    const kept = await proxy(t, config([{ url: a.url }], { preserveHost: true }));
    assert.equal((await send(kept.base, '/app/h', { headers: { host: 'front.example' } })).status, 200);
    assert.equal(lastHit().headers.host, 'front.example');
    await assertIdle(p.mw);
    await assertIdle(kept.mw);
  });

  test('hop-by-hop headers and the ones named in Connection are removed', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    const r = await send(p.base, '/app/hop', {
      headers: {
        connection: 'keep-alive, X-Drop-Me, x-also-drop',
        'keep-alive': 'timeout=99',
        te: 'trailers',
        upgrade: 'h2c',
        'proxy-authorization': 'Basic c2VjcmV0OnNlY3JldA==',
        'proxy-connection': 'keep-alive',
        expect: '100-continue',
        'x-drop-me': 'secret',
        'x-also-drop': 'secret',
        'x-keep': 'yes',
      },
    });
    assert.equal(r.status, 200);
    const h = lastHit().headers;
    for (const name of [
      'keep-alive',
      'te',
      'upgrade',
      'proxy-authorization',
      'proxy-connection',
      'expect',
      'x-drop-me',
      'x-also-drop',
    ]) {
      assert.equal(h[name], undefined, `${name} must not reach the worker`);
    }
    assert.doesNotMatch(String(h.connection), /drop/i, "the client's Connection tokens are not forwarded");
    assert.equal(h['x-keep'], 'yes');
    await assertIdle(p.mw);
  });

  test('Connection: X-Forwarded-For cannot strip the forwarding headers (CVE-2022-31813)', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    const r = await send(p.base, '/app/cve', {
      method: 'POST',
      body: 'abc',
      headers: {
        host: 'front.example',
        connection: 'X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Server, Host, Content-Length',
        'x-forwarded-for': '198.51.100.7',
        'x-forwarded-host': 'orig.example',
        'x-forwarded-server': 'edge.example',
      },
    });
    assert.equal(r.status, 200);
    const hit = lastHit();
    assert.equal(hit.headers['x-forwarded-for'], '198.51.100.7, 127.0.0.1');
    assert.equal(hit.headers['x-forwarded-host'], 'orig.example, front.example');
    assert.equal(hit.headers['x-forwarded-server'], 'edge.example, proxy.test');
    assert.equal(hit.headers.host, `127.0.0.1:${a.port}`);
    assert.equal(hit.body.toString(), 'abc');
    await assertIdle(p.mw);
  });
});

describe('responses', () => {
  test('response hop-by-hop headers (and those named in its Connection) are removed', async (t) => {
    const b = await httpBackend((_req, res) => {
      res.writeHead(200, {
        connection: 'X-Secret-Hop',
        'keep-alive': 'timeout=99, max=7',
        'x-secret-hop': 'internal',
        'proxy-authenticate': 'Basic realm="backend"',
        upgrade: 'h2c',
        'x-visible': 'yes',
        'content-type': 'text/plain',
      });
      res.end('body');
    });
    t.after(() => b.close());
    const p = await proxy(t, config([{ url: b.url }]));
    const r = await send(p.base, '/app/resp');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'body');
    assert.equal(r.headers['x-visible'], 'yes');
    assert.equal(r.headers['x-secret-hop'], undefined);
    assert.equal(r.headers['proxy-authenticate'], undefined);
    assert.equal(r.headers.upgrade, undefined);
    assert.notEqual(r.headers['keep-alive'], 'timeout=99, max=7', "the backend's Keep-Alive is not relayed");
    assert.doesNotMatch(String(r.headers.connection), /secret/i);
    await assertIdle(p.mw);
  });

  const cookies = ['a=1; Path=/', 'b=2; HttpOnly', 'c=3; Max-Age=60; SameSite=Lax'];
  async function cookieCase(t: TestContext, kind: AppKind): Promise<Result> {
    const b = await httpBackend((_req, res) => {
      res.setHeader('set-cookie', cookies);
      res.setHeader('link', ['</a>; rel=preload', '</b>; rel=preload']);
      res.end('ok');
    });
    t.after(() => b.close());
    const p = await startProxy(config([{ url: b.url }]), { kind });
    t.after(() => p.close());
    const r = await send(p.base, '/app/c');
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers['set-cookie'], cookies);
    const raw: string[] = [];
    for (let i = 0; i < r.rawHeaders.length; i += 2) {
      if (r.rawHeaders[i]!.toLowerCase() === 'set-cookie') raw.push(r.rawHeaders[i + 1]!);
    }
    assert.deepEqual(raw, cookies, 'three separate Set-Cookie lines, never folded');
    assert.equal(r.headers.link, '</a>; rel=preload, </b>; rel=preload');
    await assertIdle(p.mw);
    return r;
  }

  test('several Set-Cookie headers from the backend all arrive, in order (bare node:http)', async (t) => {
    await cookieCase(t, 'node');
  });

  test('several Set-Cookie headers from the backend all arrive, in order (Express, which sets X-Powered-By first)', async (t) => {
    await cookieCase(t, 'express');
  });

  test('several Set-Cookie headers from the backend all arrive, in order (node:http, a header set and removed first)', async (t) => {
    await cookieCase(t, 'node-cleared');
  });

  test('several Set-Cookie headers from the backend all arrive, in order (node:http, writeHead wrapped by on-headers)', async (t) => {
    const r = await cookieCase(t, 'node-on-headers');
    assert.equal(r.headers['x-response-time'], '1ms', "the wrapper's listener still adds its header");
  });

  test('several Set-Cookie headers from the backend all arrive, in order (node:http, writeHead wrapped to read [name, value] pairs)', async (t) => {
    const r = await cookieCase(t, 'node-pairs-writehead');
    assert.equal(r.headers['x-response-time'], '1ms');
  });

  for (const kind of ['express', 'node'] as const) {
    test(`after the head, res.getHeaders() shows what was sent, as a logger reads it at 'finish' (${kind})`, async (t) => {
      const b = await httpBackend((_req, res) => {
        res.setHeader('set-cookie', cookies);
        res.setHeader('content-type', 'text/plain');
        res.setHeader('x-powered-by', 'worker');
        res.end('ok');
      });
      t.after(() => b.close());
      const mw = balancer(config([{ url: b.url }]));
      let logged!: (headers: http.OutgoingHttpHeaders) => void;
      const atFinish = new Promise<http.OutgoingHttpHeaders>((r) => (logged = r));
      const before = (res: http.ServerResponse): void => {
        res.setHeader('x-app', '1');
        res.on('finish', () => logged({ ...res.getHeaders() }));
      };
      let handler: http.RequestListener;
      if (kind === 'express') {
        const app = express();
        app.use((_req, res, next) => {
          before(res);
          next();
        });
        app.use(mw);
        handler = app;
      } else {
        handler = (req, res) => {
          before(res);
          mw(req, res);
        };
      }
      const p = await listenProxy(http.createServer(handler), mw);
      t.after(() => p.close());
      const r = await send(p.base, '/app/h');
      assert.deepEqual(r.headers['set-cookie'], cookies);
      assert.equal(r.headers['x-app'], '1', 'a header the app set first is sent');
      assert.equal(r.headers['x-powered-by'], 'worker', "the worker's header replaces one set before (Express's)");
      const seen = await atFinish;
      assert.deepEqual(seen['set-cookie'], cookies);
      assert.equal(seen['content-type'], 'text/plain');
      assert.equal(seen['x-app'], '1');
      assert.equal(seen['x-powered-by'], 'worker');
      await assertIdle(mw);
    });
  }

  test('GET, HEAD, POST, PUT, DELETE and OPTIONS are forwarded with their bodies', async (t) => {
    const p = await proxy(t, config([{ url: a.url }]));
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const body = method === 'POST' || method === 'PUT' ? `payload-${method}` : undefined;
      const r = await send(p.base, `/app/m/${method}`, { method, ...(body !== undefined && { body }) });
      assert.equal(r.status, 200, method);
      const hit = lastHit();
      assert.equal(hit.method, method);
      assert.equal(hit.url, `/m/${method}`);
      assert.equal(hit.body.toString(), body ?? '', method);
      if (method === 'HEAD') assert.equal(r.body.length, 0, 'HEAD has no body');
      else assert.equal(echo(r).method, method);
    }
    await assertIdle(p.mw);
  });

  test('a 5 MiB response streams through intact (with and without content-length)', async (t) => {
    const data = pattern(5 * 1024 * 1024, 7);
    const b = await httpBackend((req, res) => {
      const withLength = req.url === '/len';
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        ...(withLength && { 'content-length': data.length }),
      });
      let off = 0;
      writeRespectingDrain(res, () => {
        if (off >= data.length) return undefined;
        const chunk = data.subarray(off, off + 64 * 1024);
        off += chunk.length;
        return chunk;
      });
    });
    t.after(() => b.close());
    const p = await proxy(t, config([{ url: b.url }]));
    for (const path of ['/app/len', '/app/chunked']) {
      const r = await send(p.base, path);
      assert.equal(r.status, 200, path);
      assert.ok(r.complete, path);
      assert.equal(r.body.length, data.length, path);
      assert.equal(sha256(r.body), sha256(data), path);
    }
    await assertIdle(p.mw);
  });

  test('a client that stops reading stalls the worker (backpressure), and the body still arrives intact', async (t) => {
    const total = 64 * 1024 * 1024;
    const chunk = pattern(64 * 1024, 3);
    let written = 0;
    const b = await httpBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      writeRespectingDrain(res, () => {
        if (written >= total) return undefined;
        written += chunk.length;
        return chunk;
      });
    });
    t.after(() => b.close());
    const p = await proxy(t, config([{ url: b.url }]));
    const { port } = new URL(p.base);
    const result = await new Promise<{ writtenWhilePaused: number; received: number; ok: boolean }>(
      (resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/app/big' }, (res) => {
          res.pause();
          setTimeout(() => {
            const writtenWhilePaused = written;
            let received = 0;
            let ok = true;
            res.on('data', (c: Buffer) => {
              // Every 64 KiB chunk is the same pattern: check the bytes at their offset.
              if (ok && c[0] !== chunk[received % chunk.length]) ok = false;
              received += c.length;
            });
            res.on('end', () => resolve({ writtenWhilePaused, received, ok }));
            res.resume();
          }, 500);
        });
        req.on('error', reject);
      },
    );
    // Kernel socket buffers hold a few MiB; without backpressure the proxy would read all 64.
    assert.ok(result.writtenWhilePaused < total / 2, `worker wrote ${result.writtenWhilePaused} bytes while paused`);
    assert.equal(result.received, total);
    assert.ok(result.ok, 'the body arrived in order');
    await assertIdle(p.mw);
  });

  test('an app that ends the response mid-body (a timeout middleware) stops the worker response; nothing throws', async (t) => {
    let chunksWritten = 0;
    let workerClosed!: () => void;
    const closedEarly = new Promise<void>((r) => (workerClosed = r));
    const b = await httpBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => {
        chunksWritten++;
        res.write(`chunk ${chunksWritten}\n`);
        if (chunksWritten === 40) {
          clearInterval(timer);
          res.end();
        }
      }, 25);
      res.on('close', () => {
        clearInterval(timer);
        workerClosed();
      });
    });
    t.after(() => b.close());
    const mw = balancer(config([{ url: b.url }]));
    const outcomes: string[] = [];
    mw.balancers[0]!.on('attempt', (e: { outcome: { kind: string } }) => outcomes.push(e.outcome.kind));
    const app = express();
    app.use((_req, res, next) => {
      // What connect-timeout-style middleware does: answer on its own while the proxy still streams.
      setTimeout(() => res.end('\n-- cut by the app --\n'), 150);
      next();
    });
    app.use(mw);
    const p = await listenProxy(http.createServer(app), mw);
    t.after(() => p.close());
    // A keep-alive client: its connection stays open after the app's answer, so the worker's next
    // chunks meet an ended (not a destroyed) response.
    const agent = new http.Agent({ keepAlive: true });
    t.after(() => agent.destroy());
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      http
        .get(`${p.base}/app/slow`, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: body }));
        })
        .on('error', reject);
    });
    assert.equal(status, 200);
    assert.match(text, /^chunk 1\n/);
    assert.match(text, /-- cut by the app --\n$/);
    await closedEarly;
    assert.ok(chunksWritten < 40, `the worker response ran to its end (${chunksWritten} chunks)`);
    await assertIdle(mw);
    assert.deepEqual(outcomes, ['truncated']);
    guard.assertClean();
  });

  test('workers at the same host:port share keep-alive connections; workers elsewhere do not', async (t) => {
    const shared = await new Upstream('shared').start();
    const other = await new Upstream('other').start();
    t.after(() => Promise.all([shared.stop(), other.stop()]));
    const members = [{ url: `${shared.url}/x` }, { url: `${shared.url}/y` }, { url: other.url }];
    const p = await proxy(t, config(members));
    for (let i = 0; i < 6; i++) assert.equal((await send(p.base, '/app/z')).status, 200);
    assert.deepEqual(
      shared.hits.map((h) => h.url),
      ['/x/z', '/y/z', '/x/z', '/y/z'],
    );
    // Sequential requests: one connection carried both workers' requests to `shared`.
    assert.equal(shared.openConnections, 1);
    assert.equal(other.openConnections, 1);
    const counts = p.mw.socketCounts();
    assert.deepEqual(
      members.map((m) => counts.get(m.url)),
      [1, 1, 1],
    );
    await assertIdle(p.mw);
  });

  test('exposeHeaders: true sends X-Balancer-Name/-Worker-Name/-Worker-Route', async (t) => {
    const p = await proxy(t, config([{ url: a.url, route: 'r1' }], { exposeHeaders: true }));
    const r = await send(p.base, '/app/e');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-balancer-name'], 'balancer://app');
    assert.equal(r.headers['x-balancer-worker-name'], `http://127.0.0.1:${a.port}`);
    assert.equal(r.headers['x-balancer-worker-route'], 'r1');
    const hidden = await proxy(t, config([{ url: a.url, route: 'r1' }]));
    const r2 = await send(hidden.base, '/app/e');
    assert.equal(r2.status, 200);
    assert.equal(r2.headers['x-balancer-name'], undefined);
    assert.equal(r2.headers['x-balancer-worker-name'], undefined);
    await assertIdle(p.mw);
    await assertIdle(hidden.mw);
  });
});
