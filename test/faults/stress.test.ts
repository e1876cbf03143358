import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import { balancer } from '../../lib/index.js';
import { RawServer, behaviours, type RawBehaviour } from '../support/raw-server.js';
import { Upstream, closedPort } from '../support/upstreams.js';
import { listen } from '../support/http.js';
import { seededRandom } from '../support/clock.js';

const TOTAL = Number(process.env.STRESS_REQUESTS ?? 20_000);
const CONCURRENCY = 100;

function openFds(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

/** Each request picks its fate from the worker it lands on, plus 2 % of clients that give up early. */
test(`stress: ${TOTAL} requests over mixed faults at concurrency ${CONCURRENCY}`, { timeout: 180_000 }, async () => {
  const crashes: unknown[] = [];
  const onCrash = (err: unknown): void => void crashes.push(err);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const raws: RawServer[] = [];
  const raw = async (b: RawBehaviour): Promise<string> => {
    const s = await new RawServer(b).start();
    raws.push(s);
    return s.url;
  };
  const ok1 = await new Upstream('ok1').start();
  const ok2 = await new Upstream('ok2').start();
  const slow = await new Upstream('slow').start();
  slow.mode = { status: 200, delayMs: 15 };
  const members = [
    { url: ok1.url },
    { url: ok2.url },
    { url: slow.url },
    { url: await raw(behaviours.status(500)) },
    { url: await raw(behaviours.resetBeforeResponse()) },
    { url: await raw(behaviours.closeBeforeStatus()) },
    { url: await raw(behaviours.garbage()) },
    { url: await raw(behaviours.dieMidBody()) },
    { url: await raw(behaviours.hang()), timeout: 100 },
    { url: `http://127.0.0.1:${await closedPort()}`, retry: 50 },
  ];
  const lb = balancer({
    balancers: [
      {
        name: 'get',
        mount: '/get',
        retryon: 'idempotent',
        failonstatus: [500],
        members: members.map((m) => ({ ...m, retry: 50 })),
      },
      { name: 'post', mount: '/post', members },
    ],
    logger: false, // thousands of deliberate worker transitions
  });
  const srv = await listen((req, res) => lb(req, res));
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const random = seededRandom(7);
  const statuses = new Map<string, number>();
  const count = (k: string): void => void statuses.set(k, (statuses.get(k) ?? 0) + 1);
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const post = i % 3 === 0;
      const abortAfter = random() < 0.02 ? Math.floor(random() * 20) : -1;
      const req = http.request(
        `${srv.base}/${post ? 'post' : 'get'}/${i}`,
        { method: post ? 'POST' : 'GET', agent, headers: post ? { 'content-length': '11' } : {} },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            count(String(res.statusCode));
            resolve();
          });
          res.on('error', () => {
            count('truncated');
            resolve();
          });
        },
      );
      req.on('error', () => {
        count(abortAfter >= 0 ? 'aborted' : 'client-error');
        resolve();
      });
      if (abortAfter >= 0) setTimeout(() => req.destroy(), abortAfter);
      req.end(post ? 'hello world' : undefined);
    });
  const fdsBefore = openFds();
  const started = Date.now();
  let next = 0;
  let socketsAtHalf = 0;
  const runner = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++;
      if (i === TOTAL / 2) socketsAtHalf = [...lb.socketCounts().values()].reduce((a, b) => a + b, 0);
      await one(i);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, runner));
  const seconds = (Date.now() - started) / 1000;
  for (let i = 0; i < 400 && lb.balancers.some((b) => b.busy > 0); i++) await new Promise((r) => setTimeout(r, 5));
  const socketsAtEnd = [...lb.socketCounts().values()].reduce((a, b) => a + b, 0);
  const busy = lb.balancers.flatMap((b) => b.workers.map((w) => w.busy));
  const summary = [...statuses.entries()]
    .sort()
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
  console.log(
    `stress: ${TOTAL} requests in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds)} req/s); ${summary}; ` +
      `pooled sockets at half ${socketsAtHalf}, at end ${socketsAtEnd}; crashes ${crashes.length}`,
  );
  agent.destroy();
  await lb.close(1000);
  await srv.close();
  await Promise.all([ok1.stop(), ok2.stop(), slow.stop(), ...raws.map((r) => r.stop())]);
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);

  assert.deepEqual(crashes, [], 'no uncaught exception or unhandled rejection');
  assert.ok(
    busy.every((b) => b === 0),
    `busy back to 0: ${busy.join(',')}`,
  );
  assert.equal(
    [...statuses.values()].reduce((a, b) => a + b, 0),
    TOTAL,
    'every request ended one way or another',
  );
  assert.ok((statuses.get('200') ?? 0) > TOTAL / 4, 'healthy workers kept serving');
  assert.ok(socketsAtEnd <= socketsAtHalf + 20, `pooled sockets grew from ${socketsAtHalf} to ${socketsAtEnd}`);
  assert.equal(lb.balancers[0]!.inflight + lb.balancers[1]!.inflight, 0);
  assert.equal(lb.balancers[0]!.retrying + lb.balancers[1]!.retrying, 0);
  if (fdsBefore >= 0) {
    await new Promise((r) => setTimeout(r, 100));
    const fdsAfter = openFds();
    assert.ok(fdsAfter <= fdsBefore + 5, `file descriptors ${fdsBefore} → ${fdsAfter}`);
  }
});
