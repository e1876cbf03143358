#!/usr/bin/env node
// Scheduler pick cost through the balancer's real selection path: ns per pick for every built-in
// scheduler (read from the built package's registry) at 4, 100, 1 000 and 10 000 workers.
//
//   npm run bench:pick                    all built-in schedulers, N = 4,100,1000,10000, 3 repeats
//   npm run bench:pick -- --n 4,10000 --only byrequests --repeats 5 --weights equal --no-save
//   options: --n LIST  --repeats 3  --samples 15  --sample-ms 40  --warmup-ms 300  --only a,b
//            --weights equal,mixed  --modes cycle,select,sticky  --no-pin  --no-save
//            --quiet-pct 25 --quiet-max-wait 10   (quiet gate before each child: machine busy % over 0.5 s)
//
// What is timed (each in a fresh child process, so call sites stay monomorphic; all (scheduler,
// N, weights, mode) combinations interleaved, `repeats` times; each child warms up, calibrates a
// sample of ~40 ms and times 15 samples with process.hrtime.bigint; reported is the median over
// processes of each process's median):
//   cycle   selectWorker(balancer, undefined, ctx, undefined) + balancer.acquire(w), with 64 picks
//           kept in flight in a ring, the oldest released first via balancer.release(w, outcome)
//           (200 B out, 800 B in) — the per-request scheduling work of the middleware, minus I/O.
//   select  selectWorker(...) alone (nothing is ever released; bybusyness then sees busy = 0).
//   sticky  as cycle, but every selection carries a session route (r0, r1, … in turn over all N
//           members, each member owning one): route lookup + Apache's sticky accounting, the
//           per-request work of sticky traffic.
// hash gets a request key per selection (4096 keys in turn); the other schedulers ignore keys.
// The balancer is built with the public balancer() factory (members http://127.0.0.1:1/wI, never
// contacted), so election (tiers, usability, spares), the scheduler and the accounting are the
// shipped code from dist/esm. Weights: "equal" (loadfactor 1) or "mixed" (loadfactor 1..5 by index).
// Children run pinned to CPU 1 (taskset) when available. Results: bench/results/pick-cost-<date>.md/.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DIST_ENTRY,
  RESULTS_DIR,
  ensureBuilt,
  fmtNs,
  gitHead,
  median,
  stamp,
  waitQuiet,
  which,
} from './lib/common.mjs';

const SELF = fileURLToPath(import.meta.url);
const INFLIGHT = 64;
const OUTCOME = Object.freeze({ kind: 'completed', status: 200, transferred: 200, read: 800 });

// Apache-style O(n) reference (byrequests over an array of objects, in Node), measured on 2026-11-25
// (Node v20.20.2, the machine of the results in bench/results/). Kept here as data.
const REFERENCE = {
  source: 'an Apache-style O(n) scan over an array, measured 2026-11-25',
  byrequests: { 4: 10.0, 100: 207.9, 1000: 1820, 10000: 18400 },
  bybusyness: { 4: 14.7, 100: 230.3, 1000: 2230, 10000: 21990 },
  'round-robin': { 4: 2.2, 100: 2.5, 1000: 2.5, 10000: 2.5 },
};

// ------------------------------------------------------------------ child: build, check, time
async function load() {
  return import(pathToFileURL(DIST_ENTRY).href);
}

function build(lib, lbmethod, n, weights) {
  const members = Array.from({ length: n }, (_, i) => ({
    url: `http://127.0.0.1:1/w${i}`,
    loadfactor: weights === 'mixed' ? (i % 5) + 1 : 1,
    route: `r${i}`,
  }));
  const mw = lib.balancer({ balancers: [{ name: 'pick', mount: '/', lbmethod, members }] });
  return mw.balancers[0];
}

const newCtx = (b) => ({
  balancer: b.id,
  worker: undefined,
  workerRoute: undefined,
  sessionSticky: undefined,
  sessionRoute: undefined,
  routeChanged: false,
  tried: [],
});

async function child(lbmethod, n, weights, mode, opts) {
  const lib = await load();
  const b = build(lib, lbmethod, n, weights);
  const { selectWorker } = lib;
  const ctx = newCtx(b);
  // hash: each selection carries one of 4096 keys in turn (the request's hashkey), as a request would.
  const keys = lbmethod === 'hash' ? Array.from({ length: 4096 }, (_, i) => `user-${i}`) : undefined;
  let nextKey = 0;
  const keyed = () => {
    if (keys === undefined) return;
    ctx.hashKey = keys[nextKey];
    nextKey = (nextKey + 1) & 4095;
  };
  const ring = new Array(INFLIGHT).fill(undefined);
  let head = 0;
  let sink = 0;
  // Sticky mode: one hit per route, taken in turn (built before timing; a request resolves its own).
  const sticky = mode === 'sticky';
  const hits = sticky ? b.workers.map((w) => ({ sticky: 'S', route: w.route, source: 'cookie' })) : [];
  let nextHit = 0;
  const hit = () => {
    const h = hits[nextHit];
    nextHit = nextHit + 1 === hits.length ? 0 : nextHit + 1;
    return h;
  };
  const run =
    mode === 'cycle' || sticky
      ? (iters) => {
          for (let i = 0; i < iters; i++) {
            const old = ring[head];
            if (old !== undefined) b.release(old, OUTCOME, 'GET');
            keyed();
            const sel = selectWorker(b, sticky ? hit() : undefined, ctx, undefined);
            const w = sel.worker;
            b.acquire(w);
            ring[head] = w;
            head = head + 1 === INFLIGHT ? 0 : head + 1;
          }
        }
      : (iters) => {
          for (let i = 0; i < iters; i++) {
            keyed();
            if (selectWorker(b, undefined, ctx, undefined).worker === undefined) sink++;
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
  const elected = b.workers.map((w) => w.elected);
  return {
    lbmethod,
    n,
    weights,
    mode,
    iters,
    median: ns[ns.length >> 1],
    min: ns[0],
    max: ns[ns.length - 1],
    electedMin: Math.min(...elected),
    electedMax: Math.max(...elected),
    sink,
  };
}

/** Semantics checks through the same path, so the timing drives the real algorithms. */
async function checks(schedulers) {
  const lib = await load();
  const problems = [];
  const seq = (lbmethod, lfs, k, outcome) => {
    const mw = lib.balancer({
      balancers: [
        {
          name: 'c',
          mount: '/',
          lbmethod,
          members: lfs.map((lf, i) => ({ url: `http://127.0.0.1:1/${i}`, loadfactor: lf })),
        },
      ],
    });
    const b = mw.balancers[0];
    const ctx = newCtx(b);
    let s = '';
    for (let i = 0; i < k; i++) {
      const w = lib.selectWorker(b, undefined, ctx, undefined).worker;
      b.acquire(w);
      b.release(w, outcome, 'GET');
      s += 'abcdefgh'[b.workers.indexOf(w)];
    }
    return s;
  };
  const want = (name, got, exp) => {
    if (got !== exp) problems.push(`${name}: got ${got}, expected ${exp}`);
  };
  if (schedulers.includes('byrequests')) want('byrequests 5,1,1', seq('byrequests', [5, 1, 1], 7, OUTCOME), 'aabacaa');
  if (schedulers.includes('byrequests'))
    want('byrequests 1,1,1,2', seq('byrequests', [1, 1, 1, 2], 5, OUTCOME), 'dabcd');
  if (schedulers.includes('bybusyness'))
    want('bybusyness 1,1,1,1 idle', seq('bybusyness', [1, 1, 1, 1], 8, OUTCOME), 'abcdabcd');
  if (schedulers.includes('bytraffic')) want('bytraffic 1,2,1', seq('bytraffic', [1, 2, 1], 8, OUTCOME), 'abcbabcb');
  return problems;
}

// ------------------------------------------------------------------ orchestration
function parseArgs(argv) {
  const o = {
    ns: [4, 100, 1000, 10000],
    repeats: 3,
    samples: 15,
    sampleMs: 40,
    warmupMs: 300,
    only: null,
    weights: ['equal', 'mixed'],
    modes: ['cycle', 'select', 'sticky'],
    pin: true,
    save: true,
    quietPct: 25,
    quietMaxWait: 10,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i];
    if (a === '--n') o.ns = next().split(',').map(Number);
    else if (a === '--repeats') o.repeats = Number(next());
    else if (a === '--samples') o.samples = Number(next());
    else if (a === '--sample-ms') o.sampleMs = Number(next());
    else if (a === '--warmup-ms') o.warmupMs = Number(next());
    else if (a === '--only') o.only = next().split(',');
    else if (a === '--weights') o.weights = next().split(',');
    else if (a === '--modes') o.modes = next().split(',');
    else if (a === '--quiet-pct') o.quietPct = Number(next());
    else if (a === '--quiet-max-wait') o.quietMaxWait = Number(next());
    else if (a === '--no-pin') o.pin = false;
    else if (a === '--no-save') o.save = false;
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(SELF, 'utf8').split('\n').slice(1, 25).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  return o;
}

async function main() {
  if (process.argv[2] === '--child') {
    const [lbmethod, n, weights, mode, json] = process.argv.slice(3);
    const r = await child(lbmethod, Number(n), weights, mode, JSON.parse(json));
    process.stdout.write(JSON.stringify(r));
    return 0;
  }
  const o = parseArgs(process.argv.slice(2));
  await ensureBuilt();
  const lib = await load();
  const all = lib.listSchedulers();
  const schedulers = o.only ? all.filter((s) => o.only.includes(s)) : all;
  if (!schedulers.length) throw new Error(`no scheduler selected; the registry has ${all.join(', ')}`);
  const problems = await checks(schedulers);
  if (problems.length) throw new Error(`scheduler checks failed through selectWorker:\n${problems.join('\n')}`);
  console.log(`schedulers from dist/esm registry: ${all.join(', ')}; sequence checks passed`);

  const pin = o.pin && which('taskset') && os.cpus().length >= 2;
  const childOpts = JSON.stringify({ samples: o.samples, sampleMs: o.sampleMs, warmupMs: o.warmupMs });
  const combos = [];
  for (const n of o.ns)
    for (const w of o.weights) for (const m of o.modes) for (const s of schedulers) combos.push([s, n, w, m]);
  const results = new Map(); // key -> runs
  const key = (s, n, w, m) => `${s}|${n}|${w}|${m}`;
  const t0 = Date.now();
  const gate = { checks: 0, waitedSeconds: 0, notQuiet: 0 };
  for (let r = 0; r < o.repeats; r++) {
    // rotate the order each repeat so no combination always runs first
    const order = combos.map((_, i) => combos[(i + r * 7) % combos.length]);
    for (const [s, n, w, m] of order) {
      const q = await waitQuiet({ pct: o.quietPct, maxWaitS: o.quietMaxWait, sampleMs: 500 });
      gate.checks++;
      gate.waitedSeconds += q.waitedSeconds;
      if (!q.quiet) gate.notQuiet++;
      const args = [SELF, '--child', s, String(n), w, m, childOpts];
      const cmd = pin ? 'taskset' : process.execPath;
      const p = spawnSync(cmd, pin ? ['-c', '1', process.execPath, ...args] : args, { encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`${s} N=${n} ${w} ${m} failed:\n${p.stderr}`);
      const res = JSON.parse(p.stdout);
      const k = key(s, n, w, m);
      if (!results.has(k)) results.set(k, []);
      results.get(k).push(res);
      process.stderr.write(
        `  repeat ${r + 1}/${o.repeats}  ${s.padEnd(11)} N=${String(n).padEnd(6)} ${w.padEnd(6)} ${m.padEnd(6)} ${fmtNs(res.median)}\n`,
      );
    }
  }
  const rows = [];
  for (const s of schedulers) {
    for (const w of o.weights) {
      for (const m of o.modes) {
        const perN = {};
        for (const n of o.ns) {
          const rs = results.get(key(s, n, w, m));
          perN[n] = {
            medianNs: median(rs.map((x) => x.median)),
            minNs: Math.min(...rs.map((x) => x.min)),
            processMedians: rs.map((x) => x.median),
            elected: [rs[0].electedMin, rs[0].electedMax],
          };
        }
        rows.push({ scheduler: s, weights: w, mode: m, perN });
      }
    }
  }
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim(),
    pinnedToCpu: pin ? 1 : null,
    commit: gitHead(),
    inflight: INFLIGHT,
    quietGate: { ...gate, waitedSeconds: Math.round(gate.waitedSeconds) },
    seconds: Math.round((Date.now() - t0) / 1000),
    command: `npm run bench:pick${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    options: o,
    reference: REFERENCE,
  };
  const md = markdown(meta, rows, o);
  console.log('\n' + md);
  if (o.save) {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const base = path.join(RESULTS_DIR, `pick-cost-${stamp(meta.date)}`);
    fs.writeFileSync(`${base}.json`, JSON.stringify({ meta, rows }, null, 2) + '\n');
    fs.writeFileSync(`${base}.md`, md);
    console.log(`wrote ${path.relative(process.cwd(), base)}.md and .json`);
  }
  return 0;
}

function markdown(meta, rows, o) {
  const L = [];
  const big = Math.max(...o.ns);
  const small = Math.min(...o.ns);
  L.push(`# Scheduler pick cost — ${meta.date}`, '');
  L.push(`- Node ${meta.node}, ${meta.cpus} × ${meta.cpuModel}; children pinned to CPU ${meta.pinnedToCpu ?? 'none'}`);
  L.push(`- library: dist/esm built from ${meta.commit}`);
  L.push(`- command: \`${meta.command}\` (${meta.seconds} s)`);
  const g = meta.quietGate;
  L.push(
    `- quiet gate before each child (machine ≤ ${o.quietPct} % busy over 0.5 s, ≤ ${o.quietMaxWait} s wait): ${g.checks} checks, ${g.waitedSeconds} s waited in all, ${g.notQuiet} children started without a quiet moment (shared machine: treat small differences as noise)`,
  );
  L.push(
    `- ns per pick: median over ${o.repeats} processes of each process's median of ${o.samples} samples (~${o.sampleMs} ms each, after ${o.warmupMs} ms warm-up); fastest sample in brackets`,
  );
  L.push(
    `- cycle = \`selectWorker()\` + \`acquire()\` + \`release()\` of the oldest of ${INFLIGHT} in flight (the per-request scheduling work); select = \`selectWorker()\` alone; sticky = cycle with a session route on every selection (r0, r1, … in turn, one per member)`,
    '',
  );
  L.push(`| scheduler | weights | mode | ${o.ns.map((n) => `N = ${n}`).join(' | ')} | N=${big} ÷ N=${small} |`);
  L.push(`|---|---|---|${o.ns.map(() => '---:').join('|')}|---:|`);
  for (const r of rows) {
    const cells = o.ns.map((n) => `${fmtNs(r.perN[n].medianNs)} (${fmtNs(r.perN[n].minNs)})`);
    const growth = r.perN[big].medianNs / r.perN[small].medianNs;
    L.push(`| ${r.scheduler} | ${r.weights} | ${r.mode} | ${cells.join(' | ')} | ${growth.toFixed(1)}× |`);
  }
  L.push('', `## Against the Apache-style O(n) reference (${REFERENCE.source})`, '');
  L.push(
    'Reference: byrequests / bybusyness exactly as Apache scans them, over a plain array of objects, no election around it (pick only, resp. pick+release). Library: equal weights, cycle mode.',
    '',
  );
  L.push(`| scheduler | ${o.ns.map((n) => `N = ${n}: library / reference`).join(' | ')} |`);
  L.push(`|---|${o.ns.map(() => '---:').join('|')}|`);
  for (const r of rows.filter((x) => x.weights === 'equal' && x.mode === 'cycle')) {
    const ref = REFERENCE[r.scheduler] ?? REFERENCE.byrequests;
    const refName = REFERENCE[r.scheduler] ? r.scheduler : 'byrequests';
    const cells = o.ns.map((n) =>
      ref[n] ? `${fmtNs(r.perN[n].medianNs)} / ${fmtNs(ref[n])} = ${(r.perN[n].medianNs / ref[n]).toFixed(2)}×` : 'n/a',
    );
    L.push(`| ${r.scheduler} (vs ${refName}) | ${cells.join(' | ')} |`);
  }
  L.push('', '## Goal: ≤ 1 µs per pick at 10 000 workers and ≤ 3× the 4-worker cost', '');
  L.push('| scheduler | weights | mode | N = 10000 | ≤ 1 µs | ÷ N = 4 | ≤ 3× | met |');
  L.push('|---|---|---|---:|---|---:|---|---|');
  for (const r of rows) {
    if (!r.perN[10000] || !r.perN[4]) continue;
    const v = r.perN[10000].medianNs;
    const g = v / r.perN[4].medianNs;
    L.push(
      `| ${r.scheduler} | ${r.weights} | ${r.mode} | ${fmtNs(v)} | ${v <= 1000 ? 'yes' : 'no'} | ${g.toFixed(1)}× | ${g <= 3 ? 'yes' : 'no'} | ${v <= 1000 && g <= 3 ? 'met' : 'not met'} |`,
    );
  }
  L.push('');
  return L.join('\n');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(String(err && err.stack ? err.stack : err));
    process.exit(1);
  },
);
