#!/usr/bin/env node
// Scheduler pick cost of two (or more) copies of the library's source, side by side in one run:
// ns per selection through the real path (selectWorker + acquire/release) for every built-in
// scheduler at 4, 100, 1 000 and 10 000 workers. Used to report "before / after" for a change.
//
//   node --import tsx bench/pick-compare.mjs --lib before=../base/lib --lib after=lib
//   options: --lib NAME=DIR (repeatable; default after=lib)  --n 4,100,1000,10000  --repeats 5
//            --only byrequests,bybusyness  --weights equal,mixed  --samples 11  --sample-ms 30
//            --warmup-ms 200  --no-pin
//
// Each (library, scheduler, N, weights) runs in a fresh child process (`node --import tsx`), all
// combinations interleaved and rotated each repeat, pinned to CPU 1 with taskset when there is one.
// A child builds the balancer from lib/index.ts, warms up, then times `samples` samples of a
// calibrated number of requests: selectWorker(balancer, undefined, ctx, undefined), acquire, and
// the release of the request 64 picks earlier (200 B out, 800 B in), so bybusyness sees 64 in
// flight and bytraffic sees bytes grow. Weights: equal (loadfactor 1) or mixed (1..5 by index).
// Reported: the median over processes of each process's median ns per request. The machine may be
// shared: compare columns of one run, never numbers of different runs.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const INFLIGHT = 64;
const OUTCOME = Object.freeze({ kind: 'completed', status: 200, transferred: 200, read: 800 });

async function child(dir, lbmethod, n, weights, opts) {
  const lib = await import(pathToFileURL(path.resolve(dir, 'index.ts')).href);
  const members = Array.from({ length: n }, (_, i) => ({
    url: `http://127.0.0.1:1/w${i}`,
    loadfactor: weights === 'mixed' ? (i % 5) + 1 : 1,
  }));
  const b = lib.balancer({ balancers: [{ name: 'pick', mount: '/', lbmethod, members }] }).balancers[0];
  const ctx = {
    balancer: b.id,
    worker: undefined,
    workerRoute: undefined,
    sessionSticky: undefined,
    sessionRoute: undefined,
    routeChanged: false,
    tried: [],
  };
  const ring = new Array(INFLIGHT).fill(undefined);
  let head = 0;
  const run = (iters) => {
    for (let i = 0; i < iters; i++) {
      const old = ring[head];
      if (old !== undefined) b.release(old, OUTCOME, 'GET');
      const w = lib.selectWorker(b, undefined, ctx, undefined).worker;
      b.acquire(w);
      ring[head] = w;
      head = head + 1 === INFLIGHT ? 0 : head + 1;
    }
  };
  let iters = 16;
  let perPick = 0;
  const warmEnd = process.hrtime.bigint() + BigInt(opts.warmupMs) * 1_000_000n;
  while (process.hrtime.bigint() < warmEnd) {
    const t0 = process.hrtime.bigint();
    run(iters);
    const dt = Number(process.hrtime.bigint() - t0);
    perPick = dt / iters;
    if (dt < 5e6) iters *= 2;
  }
  iters = Math.max(16, Math.round((opts.sampleMs * 1e6) / Math.max(perPick, 0.1)));
  const ns = [];
  for (let k = 0; k < opts.samples; k++) {
    const t0 = process.hrtime.bigint();
    run(iters);
    ns.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  ns.sort((a, x) => a - x);
  return { median: ns[ns.length >> 1], min: ns[0] };
}

function parseArgs(argv) {
  const o = {
    libs: [],
    ns: [4, 100, 1000, 10000],
    repeats: 5,
    samples: 11,
    sampleMs: 30,
    warmupMs: 200,
    only: ['byrequests', 'bybusyness', 'bytraffic'],
    weights: ['equal', 'mixed'],
    pin: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--lib') {
      const [name, dir] = next().split('=');
      o.libs.push({ name, dir: path.resolve(dir) });
    } else if (a === '--n') o.ns = next().split(',').map(Number);
    else if (a === '--repeats') o.repeats = Number(next());
    else if (a === '--samples') o.samples = Number(next());
    else if (a === '--sample-ms') o.sampleMs = Number(next());
    else if (a === '--warmup-ms') o.warmupMs = Number(next());
    else if (a === '--only') o.only = next().split(',');
    else if (a === '--weights') o.weights = next().split(',');
    else if (a === '--no-pin') o.pin = false;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.libs.length === 0) o.libs.push({ name: 'after', dir: path.resolve('lib') });
  return o;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(1)} ns`);

function hasTaskset() {
  return spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).status === 0;
}

async function main() {
  if (process.argv[2] === '--child') {
    const [dir, lbmethod, n, weights, json] = process.argv.slice(3);
    process.stdout.write(JSON.stringify(await child(dir, lbmethod, Number(n), weights, JSON.parse(json))));
    return;
  }
  const o = parseArgs(process.argv.slice(2));
  const pin = o.pin && hasTaskset() && os.cpus().length >= 2;
  const opts = JSON.stringify({ samples: o.samples, sampleMs: o.sampleMs, warmupMs: o.warmupMs });
  const combos = [];
  for (const n of o.ns)
    for (const w of o.weights) for (const s of o.only) for (const l of o.libs) combos.push([l, s, n, w]);
  const results = new Map();
  const t0 = Date.now();
  for (let r = 0; r < o.repeats; r++) {
    const order = combos.map((_, i) => combos[(i + r * 7) % combos.length]);
    for (const [l, s, n, w] of order) {
      const args = ['--import', 'tsx', SELF, '--child', l.dir, s, String(n), w, opts];
      const p = spawnSync(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, ...args] : args, {
        encoding: 'utf8',
      });
      if (p.status !== 0) throw new Error(`${l.name} ${s} N=${n} ${w} failed:\n${p.stderr}`);
      const res = JSON.parse(p.stdout);
      const k = `${l.name}|${s}|${n}|${w}`;
      if (!results.has(k)) results.set(k, []);
      results.get(k).push(res.median);
      process.stderr.write(
        `  ${r + 1}/${o.repeats} ${l.name.padEnd(7)} ${s.padEnd(11)} N=${String(n).padEnd(6)} ${w.padEnd(6)} ${fmt(res.median)}\n`,
      );
    }
  }
  const lines = [];
  lines.push(
    `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, children pinned to CPU ${pin ? 1 : 'none'}; ` +
      `${o.repeats} interleaved processes per cell, median of their medians; ${Math.round((Date.now() - t0) / 1000)} s.`,
    '',
  );
  const head = ['scheduler', 'weights', ...o.libs.flatMap((l) => o.ns.map((n) => `${l.name} N=${n}`))];
  lines.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  for (const s of o.only) {
    for (const w of o.weights) {
      const cells = o.libs.flatMap((l) => o.ns.map((n) => fmt(median(results.get(`${l.name}|${s}|${n}|${w}`)))));
      lines.push(`| ${s} | ${w} | ${cells.join(' | ')} |`);
    }
  }
  console.log(lines.join('\n'));
}

await main();
