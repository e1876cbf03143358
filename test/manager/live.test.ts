import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { validateConfig } from '../../lib/config/validate.js';
import { Balancer } from '../../lib/balancer/balancer.js';
import { NO_TIMINGS, type Outcome } from '../../lib/model/outcome.js';
import { LiveStats, BUCKETS } from '../../lib/manager/live.js';
import { sparklines } from '../../lib/manager/sparkline.js';
import { FakeClock, seededRandom } from '../support/clock.js';
import { setup, traffic, type Setup } from './helpers.js';

function rig(): { b: Balancer; clock: FakeClock; stats: LiveStats } {
  const clock = new FakeClock(10_000_000);
  const { balancers } = validateConfig({
    balancers: [{ name: 'live', mount: '/l', members: [{ url: 'http://127.0.0.1:1' }, { url: 'http://127.0.0.1:2' }] }],
  });
  const b = new Balancer(balancers[0]!, clock, seededRandom(1));
  return { b, clock, stats: new LiveStats(b) };
}

const done = (status: number, total: number): Outcome => ({
  kind: 'completed',
  status,
  phase: 'completed',
  timings: { connect: 0, firstByte: total, total },
  transferred: 0,
  read: 0,
});
const refused: Outcome = {
  kind: 'connect-failed',
  error: new Error('refused'),
  phase: 'not-connected',
  timings: NO_TIMINGS,
  transferred: 0,
  read: 0,
};

function attempt(r: ReturnType<typeof rig>, i: number, outcome: Outcome): void {
  r.b.emit('attempt', { worker: r.b.workers[i]!, outcome, method: 'GET', time: r.clock.now() });
}

describe('the live series', () => {
  test('requests and errors per second in 5-second buckets, latency quantiles, oldest first', () => {
    const r = rig();
    for (let k = 0; k < 10; k++) attempt(r, 0, done(200, 3));
    attempt(r, 0, done(502, 40));
    attempt(r, 0, refused);
    attempt(r, 1, done(200, 900));
    r.clock.advance(5000);
    attempt(r, 0, done(200, 1));
    const a = r.stats.series(r.b.workers[0]!.name);
    assert.equal(a.requestsPerSec.length, BUCKETS);
    assert.deepEqual(a.requestsPerSec.slice(-2), [12 / 5, 1 / 5]);
    assert.deepEqual(a.errorsPerSec.slice(-2), [2 / 5, 0]);
    // 11 timed samples: ten of 3 ms, one of 40 ms (the refused one has no time). Edges are 0.5·√2ⁿ.
    assert.deepEqual(a.p50.slice(-2), [4, 1]);
    assert.deepEqual(a.p99.slice(-2), [45.255, 1]);
    assert.deepEqual(a.requestsPerSec.slice(0, -2), new Array(BUCKETS - 2).fill(0));
    assert.deepEqual(a.p50.slice(0, -2), new Array(BUCKETS - 2).fill(null));
    const b = r.stats.series(r.b.workers[1]!.name);
    assert.deepEqual([b.requestsPerSec.at(-2), b.p99.at(-2)], [1 / 5, 1024]);
  });

  test('buckets come round after five minutes: old traffic leaves, the window stays 60 long', () => {
    const r = rig();
    attempt(r, 0, done(200, 2));
    r.clock.advance(BUCKETS * 5000 - 5000);
    attempt(r, 0, done(200, 2));
    let s = r.stats.series(r.b.workers[0]!.name);
    assert.deepEqual([s.requestsPerSec[0], s.requestsPerSec.at(-1)], [0.2, 0.2]);
    r.clock.advance(5000);
    s = r.stats.series(r.b.workers[0]!.name);
    assert.deepEqual([s.requestsPerSec[0], s.requestsPerSec.at(-2), s.requestsPerSec.at(-1)], [0, 0.2, 0]);
    r.clock.advance(3_600_000);
    assert.deepEqual(r.stats.series(r.b.workers[0]!.name).requestsPerSec, new Array(BUCKETS).fill(0));
  });

  test('sparklines are SVG built from numbers only, titled with the newest values', () => {
    const r = rig();
    attempt(r, 0, done(200, 3));
    const svg = sparklines(r.stats.series(r.b.workers[0]!.name));
    assert.match(
      svg,
      /^<svg class="spark rate"[^>]*><title>requests\/s 0\.1, errors\/s 0 \(last 10 s; chart: 5 min\)<\/title><polyline class="req" points="[\d., ]+"\/><polyline class="err" points="[\d., ]+"\/><\/svg><svg class="spark lat"[^>]*><title>latency p50 4 ms, p99 4 ms \(last 5 s; chart: 5 min\)<\/title>/,
    );
    assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
    assert.doesNotMatch(sparklines(r.stats.series('no such worker')), /NaN|Infinity|undefined/);
  });
});

/** Reads the first `n` events of the manager's live stream; returns them and the response head. */
function readEvents(s: Setup, n: number): Promise<{ status: number; type: string; events: unknown[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${s.manager}/live`, (res) => {
      const events: unknown[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block);
          if (data) events.push(JSON.parse(data[1]!));
          if (events.length === n) {
            req.destroy();
            resolve({ status: res.statusCode!, type: String(res.headers['content-type']), events });
          }
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), events }));
    });
    req.on('error', reject);
  });
}

interface LiveJson {
  balancers: { name: string; workers: { name: string; elected: number; status: string; spark: string }[] }[];
}

describe('GET <manager>/live', () => {
  test('streams the counters and sparklines as Server-Sent Events', async (t) => {
    const s = await setup(t);
    await traffic(s, 6);
    const { status, type, events } = await readEvents(s, 1);
    assert.equal(status, 200);
    assert.equal(type, 'text/event-stream; charset=utf-8');
    const first = (events[0] as LiveJson).balancers[0]!;
    assert.equal(first.name, 'oracle');
    assert.deepEqual(
      first.workers.map((w) => [w.name, w.elected, w.status]),
      s.ups.map((u) => [u.url, 2, '']),
    );
    assert.match(
      first.workers[0]!.spark,
      /<title>requests\/s 0\.[1-4], errors\/s 0 \(last 10 s; chart: 5 min\)<\/title>/,
    );
  });

  test('the page carries the stream and the script under the CSP nonce', async (t) => {
    const s = await setup(t);
    const page = await new Promise<{ csp: string; body: string }>((resolve, reject) => {
      http
        .get(s.manager, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ csp: String(res.headers['content-security-policy']), body }));
        })
        .on('error', reject);
    });
    const nonce = /script-src 'nonce-([^']+)'/.exec(page.csp)![1]!;
    assert.match(page.csp, /connect-src 'self'/);
    assert.ok(page.body.includes(`<script nonce="${nonce}">const LIVE_URL = "/balancer-manager/live";`));
    assert.match(page.body, /<th>Last 5 min<\/th>/);
    assert.match(page.body, /<tr data-worker="http:\/\/127\.0\.0\.1:\d+" data-status="">/);
  });

  test('only GET; a closed balancer ends the stream', async (t) => {
    const s = await setup(t);
    const post = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${s.manager}/live`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(post, 405);
    const ended = readEvents(s, 1000);
    await new Promise((r) => setTimeout(r, 100));
    await s.lb.close(100);
    const { events } = await ended;
    assert.ok(events.length >= 1 && events.length < 1000, `${events.length} events before the end`);
  });
});
