/**
 * WebSocket upgrades have their own limit (member and balancer `maxupgrades`) and take no `max`
 * slot: idle tunnels cannot lock HTTP requests out of a worker. Real ws clients and backends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import express from 'express';
import { balancer, type BalancerMiddleware } from '../../lib/index.js';
import type { BalancerOptions, MemberOptions } from '../../lib/config/options.js';
import { ConfigError } from '../../lib/errors.js';
import { validateConfig } from '../../lib/config/validate.js';
import { request } from '../support/http.js';

interface Backend {
  url: string;
  close(): Promise<void>;
}

/** A real backend: answers HTTP with its name and echoes WebSocket messages prefixed with it. */
async function backend(name: string): Promise<Backend> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'x-upstream': name }).end(name));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m: Buffer) => ws.send(`${name}:${m.toString()}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Rig {
  lb: BalancerMiddleware;
  base: string;
  /** Opens a WebSocket and waits for its first echo: the worker's name, or `status N` when refused. */
  open(cookie?: string): Promise<{ ws: WebSocket | undefined; answer: string }>;
  close(): Promise<void>;
}

async function rig(members: Omit<MemberOptions, 'url'>[], options: Partial<BalancerOptions> = {}): Promise<Rig> {
  const backends = await Promise.all(members.map((_, i) => backend(String.fromCharCode(0x61 + i))));
  let lb: BalancerMiddleware;
  try {
    lb = balancer({
      balancers: [
        {
          name: 'ws',
          mount: '/app',
          // A request that waits for a `max` slot gets 503 soon instead of hanging the test.
          queue: { timeout: 200 },
          ...options,
          members: members.map((m, i) => ({ url: backends[i]!.url, ...m })),
        },
      ],
    });
  } catch (err) {
    await Promise.all(backends.map((b) => b.close()));
    throw err;
  }
  const app = express();
  app.use(lb);
  const server = lb.attach(http.createServer(app));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const sockets: WebSocket[] = [];
  return {
    lb,
    base: `http://127.0.0.1:${port}`,
    open: (cookie) =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/app/socket`, cookie ? { headers: { cookie } } : {});
        sockets.push(ws);
        ws.once('open', () => ws.send('hi'));
        ws.once('message', (m: Buffer) => resolve({ ws, answer: m.toString().replace(/:hi$/, '') }));
        ws.once('unexpected-response', (_req, res) => {
          res.resume();
          resolve({ ws: undefined, answer: `status ${res.statusCode}` });
        });
        ws.once('error', (err) => resolve({ ws: undefined, answer: `error ${err.message}` }));
      }),
    async close() {
      for (const ws of sockets) ws.terminate();
      await lb.close(100);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}

/** Closes a client socket and waits until the balancer has released its worker. */
async function closeSocket(r: Rig, ws: WebSocket): Promise<void> {
  const released = once(r.lb.balancers[0]!, 'attempt');
  ws.close();
  await released;
}

/** Who answered `n` requests sent `parallel` at a time (never more than the worker's `max`: no queueing). */
async function httpFrom(r: Rig, n: number, parallel = 1, cookie?: string): Promise<string[]> {
  const out: string[] = [];
  const opts = cookie ? { headers: { cookie } } : {};
  for (let i = 0; i < n; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - i) }, (_, j) =>
      request(r.base, `/app/req${i + j}`, opts),
    );
    for (const x of await Promise.all(batch)) out.push(x.status === 200 ? (x.from ?? '?') : String(x.status));
  }
  return out;
}

test('idle WebSockets at a worker do not block HTTP to it; the upgrade over maxupgrades gets 503; closing one frees a slot', async () => {
  const r = await rig([{ max: 2, maxupgrades: 20 }]);
  try {
    const open: WebSocket[] = [];
    const w = r.lb.balancers[0]!.workers[0]!;
    for (let i = 0; i < 20; i++) {
      const { ws, answer } = await r.open();
      assert.equal(answer, 'a', `upgrade ${i}`);
      open.push(ws!);
      // As many idle tunnels as `max`, then ten times as many: requests two at a time get both slots at once.
      if (i === 1 || i === 19) assert.deepEqual(await httpFrom(r, 8, 2), Array(8).fill('a'), `${i + 1} tunnels`);
    }
    assert.deepEqual([w.busy, w.upgrades], [20, 20]);
    assert.equal((await r.open()).answer, 'status 503', 'the 21st upgrade is over the limit');
    assert.deepEqual([w.busy, w.upgrades], [20, 20]);
    await closeSocket(r, open.pop()!);
    assert.deepEqual([w.busy, w.upgrades], [19, 19]);
    assert.equal((await r.open()).answer, 'a', 'the freed slot takes a new upgrade');
    assert.deepEqual(await httpFrom(r, 4, 2), Array(4).fill('a'));
  } finally {
    await r.close();
  }
});

test('a worker at its maxupgrades is skipped (a sticky route too); the balancer maxupgrades caps the sum', async () => {
  const r = await rig(
    [
      { route: 'r1', maxupgrades: 2 },
      { route: 'r2', maxupgrades: 2 },
    ],
    { stickysession: 'JSESSIONID', maxupgrades: 3 },
  );
  try {
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) answers.push((await r.open('JSESSIONID=x.r1')).answer);
    assert.deepEqual(answers, ['a', 'a', 'b'], 'a full, its route fails over to b');
    const b = r.lb.balancers[0]!;
    assert.equal(b.upgrades, 3);
    assert.equal((await r.open()).answer, 'status 503', 'b has a slot, the balancer has none');
    // HTTP still reaches each worker by its route.
    assert.deepEqual(await httpFrom(r, 2, 1, 'JSESSIONID=x.r1'), ['a', 'a']);
    assert.deepEqual(await httpFrom(r, 2, 1, 'JSESSIONID=x.r2'), ['b', 'b']);
  } finally {
    await r.close();
  }
});

test('maxupgrades: 0 takes no upgrades; HTTP still reaches the worker', async () => {
  const r = await rig([{ maxupgrades: 0 }, {}]);
  try {
    assert.deepEqual([(await r.open()).answer, (await r.open()).answer], ['b', 'b']);
    assert.deepEqual(await httpFrom(r, 2), ['a', 'b']);
  } finally {
    await r.close();
  }
});

test('bybusyness counts open WebSockets as busy: HTTP goes to the worker without tunnels', async () => {
  const r = await rig([{}, {}], { lbmethod: 'bybusyness' });
  try {
    assert.equal((await r.open()).answer, 'a');
    assert.deepEqual(await httpFrom(r, 4), ['b', 'b', 'b', 'b']);
  } finally {
    await r.close();
  }
});

test('maxupgrades out of range or of the wrong type is a ConfigError naming the field', () => {
  const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
    [{}, { maxupgrades: -1 }, 'balancers[0].members[0].maxupgrades'],
    [{}, { maxupgrades: 1.5 }, 'balancers[0].members[0].maxupgrades'],
    [{}, { maxupgrades: '10' }, 'balancers[0].members[0].maxupgrades'],
    [{ maxupgrades: -1 }, {}, 'balancers[0].maxupgrades'],
    [{ maxupgrades: 10_000_001 }, {}, 'balancers[0].maxupgrades'],
  ];
  for (const [b, m, field] of cases) {
    assert.throws(
      () =>
        validateConfig({
          balancers: [{ name: 'x', mount: '/x', ...b, members: [{ url: 'http://127.0.0.1:1', ...m }] }],
        }),
      (e: unknown) => e instanceof ConfigError && e.field === field,
      JSON.stringify([b, m]),
    );
  }
  const { balancers } = validateConfig({
    balancers: [{ name: 'x', mount: '/x', members: [{ url: 'http://127.0.0.1:1' }] }],
  });
  assert.equal(balancers[0]!.members[0]!.maxupgrades, 1024);
  assert.equal(balancers[0]!.maxupgrades, Infinity);
});
