/**
 * Request-target fuzz (fixed seed): random targets built from dot segments, encodings, ";" params,
 * "#", "?" and doubled slashes, sent as raw request lines to an Express app with several balancers,
 * each with a raw TCP worker that records the request line it got. Invariants: a request only ever
 * reaches the worker of the balancer its raw path's mount names; the path that worker got never
 * leaves the member's base path (and target path); every client gets an answer; the process keeps
 * running and every worker's busy count returns to 0. Each answer is also checked against a small
 * model of the rules (docs/security.md, "Path confinement").
 */
import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { balancer, type BalancerConfig } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, listenProxy } from '../e2e/helpers/proxy.js';
import { RecordingWorker, rawGet, within, workerView } from './paths-support.js';
import { seededRandom } from '../support/clock.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

/** The same seeded PRNG every run, so every run sends the same targets. */
const prng = seededRandom;

interface Mount {
  mount: string;
  /** The balancer's target path (ProxyPass "balancer://name/path"). */
  path: string;
  /** The member's base path. */
  base: string;
}

const MOUNTS: Mount[] = [
  { mount: '/pub', path: '/', base: '/base0' },
  { mount: '/pub2/', path: '/t', base: '/base1/' },
  { mount: '/priv', path: '/', base: '/base2/x' },
  { mount: '/deep/er', path: '/in/', base: '/base3' },
];
const CATCH_ALL: Mount = { mount: '/', path: '/', base: '/base4' };

const PREFIXES = [
  '/pub',
  '/pub/',
  '/pub2',
  '/pub2/',
  '/priv',
  '/priv/',
  '/deep',
  '/deep/er',
  '/deep/er/',
  '/x',
  '',
  '/PUB',
  '/pubx',
  '/priv;p',
  '/pub;jsessionid=a.b',
];
const SEGMENTS = [
  '..',
  '..',
  '.',
  '%2e%2e',
  '%2E%2e',
  '.%2e',
  '%2e.',
  '%2e',
  '..;',
  '..;x=1',
  '.;',
  'a',
  'b',
  'pub',
  'pub2',
  'priv',
  'deep',
  'er',
  '',
  '%2f',
  '%5c',
  '%00',
  '%zz',
  '%',
  'a;p=1',
  '#',
  '..#',
  '%2e%2e#',
  'x#y',
  '...',
  '..x',
  '\\',
  '..?',
  '?',
];
const QUERIES = ['a=1', '/../priv', '#x', 'q=%2e%2e/priv', '', '?', '..'];

function randomTarget(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let target = pick(PREFIXES);
  const n = Math.floor(rand() * 7);
  for (let i = 0; i < n; i++) target += (rand() < 0.1 ? '//' : '/') + pick(SEGMENTS);
  if (rand() < 0.3) target += `?${pick(QUERIES)}`;
  return target.startsWith('/') ? target : `/${target}`;
}

// ------------------------------------------------------------------ the model

/** The raw path is `mount` or below it ("/app" also takes "/app;params"). */
function names(mount: string, path: string): boolean {
  if (mount.endsWith('/')) return path.startsWith(mount);
  return path === mount || path.startsWith(`${mount}/`) || path.startsWith(`${mount};`);
}

function isDots(seg: string, dots: '.' | '..'): boolean {
  return seg.split(';')[0]!.replace(/%2e/gi, '.') === dots;
}

/** True when a ".." below `mount` would climb above it. */
function climbs(mount: string, rawPath: string): boolean {
  let rest = rawPath.slice(mount.length);
  if (!mount.endsWith('/')) {
    if (!rest.includes('/')) return false;
    rest = rest.slice(rest.indexOf('/') + 1);
  }
  let depth = 0;
  for (const seg of rest.split('/')) {
    if (isDots(seg, '..')) depth--;
    else if (!isDots(seg, '.')) depth++;
    if (depth < 0) return true;
  }
  return false;
}

type Expected = { status: 200; to: number } | { status: 400 | 404 };

function expected(mounts: readonly Mount[], target: string): Expected {
  const rawPath = target.split('?')[0]!;
  if (/%2f|%5c|%00|\\/i.test(rawPath)) return { status: 404 };
  const raw = mounts.findIndex((m) => names(m.mount, rawPath));
  const resolved = mounts.findIndex((m) => names(m.mount, workerView(rawPath.replaceAll('#', '%23'))));
  if (raw === -1) return { status: resolved === -1 ? 404 : 400 };
  if (target.includes('#') || climbs(mounts[raw]!.mount, rawPath) || resolved !== raw) return { status: 400 };
  return { status: 200, to: raw };
}

// ------------------------------------------------------------------ the run

async function fuzz(
  t: TestContext,
  mounts: readonly Mount[],
  seed: number,
  cases: number,
  mix: Record<200 | 400 | 404, number>,
): Promise<void> {
  const workers = await Promise.all(mounts.map((_, i) => new RecordingWorker(`w${i}`).start()));
  t.after(() => Promise.all(workers.map((w) => w.stop())));
  const config: BalancerConfig = {
    clock: new FakeClock(),
    balancers: mounts.map((m, i) => ({
      name: `b${i}`,
      mount: m.mount,
      path: m.path,
      members: [{ url: `${workers[i]!.url}${m.base}` }],
    })),
  };
  const lb = balancer(config);
  const app = express();
  app.use(lb);
  const proxy = await listenProxy(http.createServer(app), lb);
  t.after(() => proxy.close());

  const rand = prng(seed);
  const targets = Array.from({ length: cases }, () => randomTarget(rand));
  const replies = [];
  for (let i = 0; i < targets.length; i += 64) {
    const batch = targets.slice(i, i + 64).map((target, j) => rawGet(proxy.base, target, `X-Case: ${i + j}\r\n`));
    replies.push(...(await Promise.all(batch)));
  }

  const seenBy = new Map<string, { worker: number; path: string }[]>();
  workers.forEach((w, wi) => {
    for (const s of w.seen) {
      const list = seenBy.get(s.caseId ?? '') ?? [];
      list.push({ worker: wi, path: s.line.split(' ')[1]! });
      seenBy.set(s.caseId ?? '', list);
    }
  });
  const violations: string[] = [];
  const mismatches: string[] = [];
  const counts = { 200: 0, 400: 0, 404: 0 };
  replies.forEach((r, i) => {
    const target = targets[i]!;
    const raw = mounts.findIndex((m) => names(m.mount, target.split('?')[0]!));
    const seen = seenBy.get(String(i)) ?? [];
    if (r.status === 0) violations.push(`${target}: no answer`);
    for (const s of seen) {
      const m = mounts[s.worker]!;
      const prefix = `${m.base}/${m.path}`.replace(/\/+/g, '/');
      if (s.worker !== raw) violations.push(`${target}: reached ${m.mount}, its raw path names ${mounts[raw]?.mount}`);
      if (!within(prefix, workerView(s.path)) || s.path.includes('#')) {
        violations.push(`${target}: worker got ${s.path}, outside ${prefix}`);
      }
    }
    const exp = expected(mounts, target);
    const got: Expected =
      seen.length === 1 && r.status === 200 ? { status: 200, to: seen[0]!.worker } : { status: r.status as 400 };
    if (seen.length > 1 || (seen.length === 1 && r.status !== 200))
      violations.push(`${target}: seen ${seen.length}, ${r.status}`);
    if (JSON.stringify(got) !== JSON.stringify(exp))
      mismatches.push(`${target}: ${JSON.stringify(got)}, model ${JSON.stringify(exp)}`);
    if (r.status in counts) counts[r.status as keyof typeof counts]++;
  });
  assert.deepEqual(violations, []);
  assert.deepEqual(mismatches.slice(0, 20), []);
  // The seed is fixed, so is the mix: forwarded, refused and passed on, each hundreds of times.
  assert.deepEqual(counts, mix);
  await assertIdle(lb);
}

describe('request-target fuzz', () => {
  test('four mounts (with and without trailing slash), no catch-all: 1500 targets', async (t) => {
    await fuzz(t, MOUNTS, 0x5eed, 1500, { 200: 389, 400: 326, 404: 785 });
  });

  test('the same mounts and a catch-all "/" last: 1500 targets', async (t) => {
    await fuzz(t, [...MOUNTS, CATCH_ALL], 0xc0ffee, 1500, { 200: 619, 400: 458, 404: 423 });
  });
});
