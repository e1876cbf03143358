// Past the server's header limit Node drops the later fields from req.headers but still frames the body
// by them: such a request is refused with 431, never forwarded without its body. Node 22.23.2, 24.18.1
// and later refuse it in the parser themselves; the balancer's own refusal covers the releases before.
import { after, afterEach, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { balancer } from '../../lib/index.js';
import type { BalancerConfig } from '../../lib/index.js';
import { httpBackend, type Backend } from '../e2e/helpers/backends.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, listenProxy, startProxy, type Proxy } from '../e2e/helpers/proxy.js';
import { rawClient } from './body-raw-client.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

interface Hit {
  contentLength: string | undefined;
  body: string;
}

/** A worker that keeps every header (no limit of its own) and records what it got. */
async function worker(t: TestContext): Promise<{ w: Backend<http.Server>; hits: Hit[] }> {
  const hits: Hit[] = [];
  const w = await httpBackend((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      hits.push({ contentLength: req.headers['content-length'], body });
      res.end('ok');
    });
  });
  w.server.maxHeadersCount = 0;
  t.after(() => w.close());
  return { w, hits };
}

function config(url: string, codes: string[]): BalancerConfig {
  return {
    balancers: [{ name: 'app', mount: '/app', members: [{ url }] }],
    onError: (info, _req, res) => {
      codes.push(info.error.code);
      res.writeHead(info.status, { 'content-length': info.error.code.length });
      res.end(info.error.code);
    },
  };
}

/** A POST of "hello" with `fields` header fields in all, the framing one (`framing`) last. */
function post(fields: number, framing: 'content-length' | 'chunked'): string {
  const lines = ['Host: x', 'Connection: close'];
  while (lines.length < fields - 1) lines.push(`x-f${lines.length}: 1`);
  lines.push(framing === 'chunked' ? 'Transfer-Encoding: chunked' : 'Content-Length: 5');
  const body = framing === 'chunked' ? '5\r\nhello\r\n0\r\n\r\n' : 'hello';
  return `POST /app/upload HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

async function send(p: Proxy, bytes: string): Promise<string> {
  return (await rawClient(p.base, bytes)).closed;
}

/** Node's own answer when its parser refuses a request past the limit: no handler runs. */
const NODE_431 = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';

/**
 * Whether Node's parser refuses a request past maxHeadersCount itself (431 before any handler, as Node
 * 22.23.2, 24.18.1 and later do) instead of dropping the later fields and leaving it to the balancer.
 */
async function parserRefuses(): Promise<boolean> {
  let handled = false;
  const probe = await httpBackend((_req, res) => {
    handled = true;
    res.end();
  });
  probe.server.maxHeadersCount = 1;
  try {
    await (
      await rawClient(probe.url, post(2, 'content-length'))
    ).closed;
  } finally {
    await probe.close();
  }
  return !handled;
}

describe("Node's default limit (1000 fields)", () => {
  for (const framing of ['content-length', 'chunked'] as const) {
    test(`${framing} as field 1001: 431 ERR_HEADERS_TOO_MANY, nothing forwarded`, async (t) => {
      const { w, hits } = await worker(t);
      const codes: string[] = [];
      const p = await startProxy(config(w.url, codes));
      t.after(() => p.close());
      const answer = await send(p, post(1001, framing));
      if (await parserRefuses()) {
        assert.equal(answer, NODE_431);
        assert.deepEqual(codes, []);
      } else {
        assert.match(answer, /^HTTP\/1\.1 431 /);
        assert.ok(answer.endsWith('\r\n\r\nERR_HEADERS_TOO_MANY'), answer);
        assert.deepEqual(codes, ['ERR_HEADERS_TOO_MANY']);
      }
      assert.deepEqual(hits, []);
      await assertIdle(p.mw);
    });

    test(`${framing} as field 1000: forwarded with its body`, async (t) => {
      const { w, hits } = await worker(t);
      const codes: string[] = [];
      const p = await startProxy(config(w.url, codes));
      t.after(() => p.close());
      const answer = await send(p, post(1000, framing));
      assert.match(answer, /^HTTP\/1\.1 200 /);
      assert.deepEqual(hits, [{ contentLength: framing === 'chunked' ? undefined : '5', body: 'hello' }]);
      assert.deepEqual(codes, []);
    });
  }
});

describe("the server's own maxHeadersCount", () => {
  async function proxyWithLimit(t: TestContext, limit: number, url: string, codes: string[]): Promise<Proxy> {
    const mw = balancer(config(url, codes));
    const server = http.createServer((req, res) => mw(req, res));
    server.maxHeadersCount = limit;
    const p = await listenProxy(server, mw);
    t.after(() => p.close());
    return p;
  }

  test('maxHeadersCount 20: 21 fields are refused, 20 forwarded', async (t) => {
    const { w, hits } = await worker(t);
    const codes: string[] = [];
    const p = await proxyWithLimit(t, 20, w.url, codes);
    assert.match(await send(p, post(21, 'content-length')), /^HTTP\/1\.1 431 /);
    assert.match(await send(p, post(20, 'content-length')), /^HTTP\/1\.1 200 /);
    assert.deepEqual(codes, (await parserRefuses()) ? [] : ['ERR_HEADERS_TOO_MANY']);
    assert.deepEqual(hits, [{ contentLength: '5', body: 'hello' }]);
  });

  test('maxHeadersCount 0 (no limit): 1200 fields are forwarded with the body', async (t) => {
    const { w, hits } = await worker(t);
    const codes: string[] = [];
    const p = await proxyWithLimit(t, 0, w.url, codes);
    assert.match(await send(p, post(1200, 'content-length')), /^HTTP\/1\.1 200 /);
    assert.deepEqual(codes, []);
    assert.deepEqual(hits, [{ contentLength: '5', body: 'hello' }]);
  });
});
