/**
 * Characters the forwarder (http-proxy's url.parse) drops or rewrites after the balancer's path
 * checks: "#" and all after it, and whitespace or control characters it trims. Each is refused
 * before any check (400 ERR_BAD_PATH), so what the worker receives is what was checked. A raw TCP
 * worker records the request line it actually got.
 */
import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { balancer } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, listenProxy, type Proxy } from '../e2e/helpers/proxy.js';
import { RecordingWorker, rawGet, rawWebSocket, within, workerView } from './paths-support.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

interface Setup {
  proxy: Proxy;
  worker: RecordingWorker;
  codes: string[];
}

/** Mount /app → member <worker>/base, in Express 5; `decode` adds an app middleware that percent-decodes req.url. */
async function setup(t: TestContext, decode = false): Promise<Setup> {
  const worker = await new RecordingWorker('w').start();
  t.after(() => worker.stop());
  const codes: string[] = [];
  const lb = balancer({
    clock: new FakeClock(),
    onError: ({ error, status }, _req, res) => {
      codes.push(error.code);
      res.writeHead(status).end();
    },
    balancers: [{ name: 'app', mount: '/app', members: [{ url: `${worker.url}/base` }] }],
  });
  const app = express();
  if (decode) {
    app.use((req, _res, next) => {
      req.url = decodeURIComponent(req.url);
      next();
    });
  }
  app.use(lb);
  const proxy = await listenProxy(lb.attach(http.createServer(app)), lb);
  t.after(() => proxy.close());
  return { proxy, worker, codes };
}

const FRAGMENTS = [
  '/app/..#',
  '/app/..#x',
  '/app/%2e%2e#',
  '/app/%2E%2E#/x',
  '/app/x/..#/..',
  '/app/x/..;#',
  '/app/x#',
  '/app/x#/../..',
  '/app/x?q=1#f',
  '/app/x?q=#/../..',
];

describe('"#" in a request target', () => {
  test('is refused with 400 ERR_BAD_PATH before any path check, never dropped after it', async (t) => {
    const { proxy, worker, codes } = await setup(t);
    const answers: string[] = [];
    for (const target of FRAGMENTS) answers.push(`${target} ${(await rawGet(proxy.base, target)).status}`);
    assert.deepEqual(
      answers,
      FRAGMENTS.map((target) => `${target} 400`),
    );
    assert.deepEqual(
      codes,
      FRAGMENTS.map(() => 'ERR_BAD_PATH'),
    );
    assert.deepEqual(worker.seen, []);
    await assertIdle(proxy.mw);
  });

  test('on a WebSocket handshake is refused with 400 before a worker is connected', async (t) => {
    const { proxy, worker } = await setup(t);
    const answers: string[] = [];
    for (const target of FRAGMENTS) {
      answers.push(`${target} ${(await rawWebSocket(proxy.base, target)).raw.split('\r\n')[0]}`);
    }
    assert.deepEqual(
      answers,
      FRAGMENTS.map((target) => `${target} HTTP/1.1 400 Bad Request`),
    );
    assert.equal(worker.connections, 0);
    await assertIdle(proxy.mw);
  });
});

describe('what the worker receives', () => {
  test('after every visible ASCII character at a dot segment, stays below the base path', async (t) => {
    const { proxy, worker } = await setup(t);
    const escaped: string[] = [];
    const refused: string[] = [];
    for (let c = 0x21; c <= 0x7e; c++) {
      const ch = String.fromCharCode(c);
      for (const target of [`/app/..${ch}`, `/app/..${ch}x`, `/app/a/..${ch}/..`, `/app/%2e%2e${ch}`]) {
        const before = worker.seen.length;
        const r = await rawGet(proxy.base, target);
        if (r.status !== 200) refused.push(`${target} ${r.status}`);
        assert.equal(worker.seen.length - before, r.status === 200 ? 1 : 0, target);
        const got = worker.paths.at(-1);
        if (r.status === 200 && (!within('/base', workerView(got!)) || got!.includes('#'))) {
          escaped.push(`${target} -> ${got}`);
        }
      }
    }
    assert.deepEqual(escaped, []);
    // Most characters are ordinary: the check above ran on real forwards, not only on refusals.
    // Refused: "#" (400), a ".." that the next character ends ("/", ";", "?": it climbs above
    // /app, 400), and a raw "\\" (never routed, 404 from Express); everything else is forwarded.
    assert.deepEqual(refused, [
      '/app/..# 400',
      '/app/..#x 400',
      '/app/a/..#/.. 400',
      '/app/%2e%2e# 400',
      '/app/../ 400',
      '/app/../x 400',
      '/app/%2e%2e/ 400',
      '/app/..; 400',
      '/app/..;x 400',
      '/app/a/..;/.. 400',
      '/app/%2e%2e; 400',
      '/app/..? 400',
      '/app/..?x 400',
      '/app/%2e%2e? 400',
      '/app/..\\ 404',
      '/app/..\\x 404',
      '/app/a/..\\/.. 404',
      '/app/%2e%2e\\ 404',
    ]);
    await assertIdle(proxy.mw);
  });

  test('an app that decodes req.url cannot smuggle whitespace or control characters url.parse trims', async (t) => {
    const { proxy, worker, codes } = await setup(t, true);
    const targets = ['%09', '%0b', '%0c', '%1f', '%20', '%7f', '%c2%a0', '%ef%bb%bf', '%23'].map((e) => `/app/..${e}`);
    const answers: string[] = [];
    for (const target of targets) answers.push(`${target} ${(await rawGet(proxy.base, target)).status}`);
    assert.deepEqual(
      answers,
      targets.map((target) => `${target} 400`),
    );
    assert.deepEqual(
      codes,
      targets.map(() => 'ERR_BAD_PATH'),
    );
    assert.deepEqual(worker.seen, []);
    await assertIdle(proxy.mw);
  });
});
