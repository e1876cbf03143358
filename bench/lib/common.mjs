// Helpers shared by bench/run.mjs and bench/pick-cost.mjs: paths, the "build first if dist is
// stale" rule, /proc readers, statistics and number formatting. No dependency outside node:*.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH, '..');
export const DIST_ENTRY = path.join(ROOT, 'dist', 'esm', 'index.js');
export const RESULTS_DIR = path.join(BENCH, 'results');
export const RUN_DIR = path.join(BENCH, '.run');
export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86_64/arm64

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.isFile()) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function distMtime() {
  return fs.existsSync(DIST_ENTRY) ? fs.statSync(DIST_ENTRY).mtimeMs : 0;
}

/** PIDs of `node scripts/build.mjs` processes already building this checkout (someone else's build). */
function otherBuilds() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (!cmd.some((a) => a.endsWith('scripts/build.mjs'))) continue;
      if (fs.realpathSync(`/proc/${d}/cwd`) === ROOT) out.push(Number(d));
    } catch {
      /* gone or not ours to read */
    }
  }
  return out;
}

/**
 * Runs `npm run build` when dist/esm/index.js is missing or older than any file under lib/. The
 * checkout is shared: if someone else's build is running, waits for it and checks again; a build
 * that fails because another one removed dist/ under it is retried.
 */
export async function ensureBuilt({ force = false } = {}) {
  let built = false;
  for (let attempt = 0; attempt < 4; attempt++) {
    for (let i = 0; i < 120 && otherBuilds().length; i++) {
      if (i === 0) log('another build of this checkout is running: waiting for it');
      await sleep(1000);
    }
    const dist = distMtime();
    if (!force && dist && dist >= newestMtime(path.join(ROOT, 'lib'))) return { built };
    log(dist ? 'dist/ is older than lib/: npm run build' : 'dist/ is missing: npm run build');
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status === 0) {
      built = true;
      force = false;
      continue; // re-check: lib/ may have changed meanwhile
    }
    log(`npm run build failed (exit ${r.status ?? r.signal}); retrying in 5 s`);
    await sleep(5000);
  }
  if (!distMtime()) throw new Error('dist/esm/index.js is missing and npm run build did not produce it');
  log('warning: dist/ is still older than lib/ (lib/ is being edited); measuring the dist/ that exists');
  return { built };
}

export function pkgVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

export function gitHead() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const d = spawnSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: ROOT, encoding: 'utf8' });
  return `${(r.stdout || 'unknown').trim()}${d.stdout && d.stdout.trim() ? ' + uncommitted lib/ changes' : ''}`;
}

export function which(bin) {
  return spawnSync('bash', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

// ------------------------------------------------------------------ /proc
export function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); field k is f[k - 3]
    return {
      pid,
      ppid: Number(f[1]),
      utime: Number(f[11]),
      stime: Number(f[12]),
      cutime: Number(f[13]),
      cstime: Number(f[14]),
      start: Number(f[19]),
      state: f[0],
    };
  } catch {
    return null;
  }
}

function allStats() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(Number(d));
    if (st) out.push(st);
  }
  return out;
}

/** The process and all its descendants. */
export function procTree(rootPid) {
  const stats = allStats();
  const byParent = new Map();
  for (const s of stats) {
    if (!byParent.has(s.ppid)) byParent.set(s.ppid, []);
    byParent.get(s.ppid).push(s);
  }
  const root = stats.find((s) => s.pid === rootPid);
  if (!root) return [];
  const tree = [root];
  for (const s of tree) tree.push(...(byParent.get(s.pid) || []));
  return tree;
}

/** CPU seconds used so far by a process tree (all threads, plus reaped children). */
export function treeCpuSeconds(rootPid) {
  let ticks = 0;
  const tree = procTree(rootPid);
  for (const s of tree) ticks += s.utime + s.stime + s.cutime + s.cstime;
  return { seconds: ticks / CLK_TCK, pids: tree.length };
}

/** Per-CPU jiffies from /proc/stat. */
export function cpuTimes() {
  const out = {};
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = m[2].trim().split(/\s+/).map(Number);
    const busy = user + nice + system + irq + softirq;
    out[m[1]] = { total: busy + idle + iowait + steal, idle: idle + iowait, steal, busy };
  }
  return out;
}

/** CPU-seconds all CPUs were busy between two cpuTimes() snapshots. */
export function busySeconds(a, b) {
  let j = 0;
  for (const k of Object.keys(b)) j += b[k].busy - a[k].busy;
  return j / CLK_TCK;
}

export function cpuBusy(a, b) {
  const out = {};
  for (const k of Object.keys(b)) {
    const dt = b[k].total - a[k].total;
    out[`cpu${k}`] = {
      busyPct: dt > 0 ? round(100 * (1 - (b[k].idle - a[k].idle) / dt), 1) : null,
      stealPct: dt > 0 ? round((100 * (b[k].steal - a[k].steal)) / dt, 1) : null,
    };
  }
  return out;
}

/** This process's own CPU and that of its reaped children (wrk), in seconds. */
export function selfCpu() {
  const s = readStat(process.pid);
  return { own: (s.utime + s.stime) / CLK_TCK, children: (s.cutime + s.cstime) / CLK_TCK };
}

// ------------------------------------------------------------------ statistics and formatting
export const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(d)));

export function median(xs) {
  const v = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
export const minOf = (xs) => {
  const v = xs.filter((x) => x !== null && x !== undefined);
  return v.length ? Math.min(...v) : null;
};
export const maxOf = (xs) => {
  const v = xs.filter((x) => x !== null && x !== undefined);
  return v.length ? Math.max(...v) : null;
};

export const fmt = (x, d = 0) =>
  x === null || x === undefined
    ? 'n/a'
    : Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

export const fmtNs = (x) =>
  x === null || x === undefined ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(2)} µs` : `${x.toFixed(1)} ns`;

export const stamp = (iso) => iso.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');

/**
 * Quiet gate: waits until the whole machine is at most `pct` % busy over a `sampleMs` window, for
 * at most `maxWaitS` seconds. Returns how long it waited and the last busy %.
 */
export async function waitQuiet({ pct = 5, maxWaitS = 60, sampleMs = 1000 } = {}) {
  const t0 = Date.now();
  for (;;) {
    const a = cpuTimes();
    await sleep(sampleMs);
    const b = cpuTimes();
    let busy = 0;
    let total = 0;
    for (const k of Object.keys(b)) {
      busy += b[k].busy - a[k].busy;
      total += b[k].total - a[k].total;
    }
    const busyPct = total > 0 ? (100 * busy) / total : 0;
    if (busyPct <= pct)
      return { waitedSeconds: round((Date.now() - t0) / 1000, 1), busyPct: round(busyPct, 1), quiet: true };
    if ((Date.now() - t0) / 1000 >= maxWaitS) {
      return { waitedSeconds: round((Date.now() - t0) / 1000, 1), busyPct: round(busyPct, 1), quiet: false };
    }
  }
}
