#!/usr/bin/env node
// Throughput / latency / CPU benchmark of express-proxy-balancer against its floors, in one run.
//
//   npm run bench                                   every scenario × every target, ROUNDS rounds
//   npm run bench -- --quick                        the short plan used for docs/performance.md
//   npm run bench -- --scenarios get --targets lib-node,httpproxy-node --rounds 5
//   npm run bench -- --memory                       1 000 000 requests through the library: heap/RSS, memory per worker
//   npm run bench -- --cpu-prof --targets lib-node --scenarios get --rounds 1   (+ top self-time functions)
//   node bench/run.mjs --profile-top bench/.run/prof/*.cpuprofile   (summary of saved profiles)
//   npm run bench -- --help
//
// Per run: start the target fresh (pinned to the proxy core) → wait for 200 → balance check →
// quiet gate → CPU probe → warm-up (discarded) → /proc CPU snapshot → load → snapshot → stop by PID.
// Targets are interleaved: every round runs each (scenario, target) once, the target order rotated by
// one each round. Backends (4 × nginx, one worker; or one Node process) and the load generator (wrk,
// else autocannon) are the same for every target. Everything started is stopped by PID, also on
// Ctrl-C and on errors. See docs/performance.md.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BODY_BYTES, BIG_BYTES, BIG_PATH, backendBody } from './lib/body.mjs';
import { httpGet, prepareNginx } from './lib/backends.mjs';
import {
  BENCH,
  DIST_ENTRY,
  RESULTS_DIR,
  ROOT,
  RUN_DIR,
  busySeconds,
  cpuBusy,
  cpuTimes,
  ensureBuilt,
  fmt,
  gitHead,
  log,
  maxOf,
  median,
  minOf,
  pkgVersion,
  procTree,
  readStat,
  round,
  selfCpu,
  sleep,
  stamp,
  treeCpuSeconds,
  waitQuiet,
  which,
} from './lib/common.mjs';

// ------------------------------------------------------------------ targets and scenarios
const TARGETS = {
  direct: { host: null, what: 'no proxy: the load generator talks to one backend (the ceiling)' },
  'lib-express': {
    host: 'express',
    what: 'express-proxy-balancer (dist/esm) mounted with app.use() in Express 5',
    file: 'targets/library.mjs',
    arg: 'express',
    library: true,
  },
  'lib-node': {
    host: 'node',
    what: 'express-proxy-balancer (dist/esm) as a plain node:http handler: http.createServer((req, res) => lb(req, res))',
    file: 'targets/library.mjs',
    arg: 'node',
    library: true,
  },
  'httpproxy-express': {
    host: 'express',
    what: 'Express 5 + bare http-proxy-3 (the engine) with a keep-alive agent, round robin (floor of the Express host)',
    file: 'targets/baseline.mjs',
    arg: 'httpproxy-express',
  },
  'httpproxy-node': {
    host: 'node',
    what: 'node:http + bare http-proxy-3 (the engine) with a keep-alive agent, round robin (floor of the node:http host)',
    file: 'targets/baseline.mjs',
    arg: 'httpproxy-node',
  },
  'hpm-express': {
    host: 'express',
    what: 'Express 5 + http-proxy-middleware 3.0.11 defaults (no agent: a new backend connection per request)',
    file: 'targets/baseline.mjs',
    arg: 'hpm-express',
  },
  'hpm-ka-express': {
    host: 'express',
    what: 'Express 5 + http-proxy-middleware 3.0.11 with a keep-alive agent',
    file: 'targets/baseline.mjs',
    arg: 'hpm-ka-express',
  },
};
const FLOOR = { express: 'httpproxy-express', node: 'httpproxy-node' };

const STICKY_NAME = 'JSESSIONID';
const POST_BYTES = 16384;
const SCENARIOS = {
  get: { what: `GET /, ${BODY_BYTES}-byte response`, path: '/' },
  big: { what: `GET ${BIG_PATH}, ${BIG_BYTES / 1024} KiB response`, path: BIG_PATH },
  post: { what: `POST / with a ${POST_BYTES / 1024} KiB body, ${BODY_BYTES}-byte response`, path: '/', lua: 'post' },
  sticky: {
    what: `GET / with Cookie ${STICKY_NAME}=<id>.r1..r4 (4 routes, rotating); library: stickysession ${STICKY_NAME}, members route r1..r4`,
    path: '/',
    lua: 'sticky',
    sticky: true,
  },
  workers1000: {
    what: '1 000 members (http://127.0.0.1:PORT/wI over the 4 backends, distinct base paths); GET /',
    path: '/',
    workers: 1000,
  },
};

// ------------------------------------------------------------------ settings
const env = process.env;
const int = (v, d) => (v === undefined || v === '' ? d : Number.parseInt(v, 10));
const list = (v, d) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : d;
const cfg = {
  rounds: int(env.ROUNDS, 3),
  duration: int(env.DURATION, 10),
  warmup: int(env.WARMUP, 2),
  connections: int(env.CONNECTIONS, 50),
  scenarios: list(env.SCENARIOS, Object.keys(SCENARIOS)),
  targets: list(env.TARGETS, Object.keys(TARGETS)),
  plan: env.PLAN || '',
  backend: env.BACKEND || (which('nginx') ? 'nginx' : 'node'),
  loadgen: env.LOADGEN || (which('wrk') ? 'wrk' : 'autocannon'),
  pin: env.PIN !== '0',
  proxyCpu: env.PROXY_CPU || '1',
  loadCpu: env.LOAD_CPU || '0',
  port: int(env.BENCH_PORT, 19200),
  quietPct: Number(env.QUIET_PCT ?? 5),
  quietMaxWait: int(env.QUIET_MAX_WAIT, 60),
  foreignMax: Number(env.FOREIGN_MAX ?? 0.1),
  retries: int(env.RETRIES, 2),
  probe: env.PROBE !== '0',
  tag: env.TAG || '',
  startTimeoutMs: int(env.START_TIMEOUT_MS, 40000),
  memory: env.MEMORY === '1',
  memoryRequests: int(env.MEMORY_REQUESTS, 1_000_000),
  memoryChunk: int(env.MEMORY_CHUNK, 20),
  memoryHost: env.MEMORY_HOST || 'node',
  cpuProf: env.CPU_PROF === '1',
  quick: false,
};

const HELP = `usage: npm run bench -- [options]      (every option also as an environment variable)

  --rounds N          ROUNDS=${cfg.rounds}          rounds; each runs every (scenario, target) once, interleaved
  --duration S        DURATION=${cfg.duration}        measured seconds per run
  --warmup S          WARMUP=${cfg.warmup}           discarded warm-up seconds per run
  --connections N     CONNECTIONS=${cfg.connections}     concurrent connections (wrk -t1 -cN)
  --scenarios LIST    SCENARIOS=${Object.keys(SCENARIOS).join(',')}
  --targets LIST      TARGETS=${Object.keys(TARGETS).join(',')}
  --plan SPEC         PLAN='get:all:3;big,post:lib-node,httpproxy-node:1'  scenario(s):target(s)|all:rounds, ';'-separated
  --quick             the short plan: DURATION=5, get × all targets × 3 rounds; big, post, sticky, workers1000
                      × direct + library + bare http-proxy floors × 1 round; QUIET_MAX_WAIT=20, RETRIES=0
  --backend B         BACKEND=nginx|node  (default nginx when installed)
  --loadgen L         LOADGEN=wrk|autocannon  (default wrk when installed)
  --no-pin            PIN=0  (default: proxy on CPU ${cfg.proxyCpu}, backends + load generator + harness on CPU ${cfg.loadCpu})
  --quiet-pct P       QUIET_PCT=${cfg.quietPct}          wait before each run until the machine is ≤ P % busy ...
  --quiet-max-wait S  QUIET_MAX_WAIT=${cfg.quietMaxWait}    ... for at most S seconds
  --foreign-max C     FOREIGN_MAX=${cfg.foreignMax}      a run during which other processes used > C cores is re-run ...
  --retries N         RETRIES=${cfg.retries}          ... at most N more times (least-disturbed attempt kept)
  --no-probe          PROBE=0  skip the CPU speed probe before each run
  --tag T             TAG=label  suffix of the results file name
  --memory            MEMORY=1   memory mode (no throughput runs): MEMORY_REQUESTS=${cfg.memoryRequests} through the library
                      (MEMORY_HOST=${cfg.memoryHost}) in MEMORY_CHUNK=${cfg.memoryChunk}-second load chunks, heap/RSS after each;
                      then 4 vs 1 000 members: memory per worker
  --cpu-prof          CPU_PROF=1  run library targets under node --cpu-prof (bench/.run/prof) and print
                      the top self-time functions in dist/
ports: target ${cfg.port}, backends ${cfg.port + 1}-${cfg.port + 4}, stats ${cfg.port + 10} (127.0.0.1; BENCH_PORT moves them)`;

function parseArgs(argv) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') {
      console.log(HELP);
      process.exit(0);
    } else if (a === '--rounds') cfg.rounds = Number(next());
    else if (a === '--duration') cfg.duration = Number(next());
    else if (a === '--warmup') cfg.warmup = Number(next());
    else if (a === '--connections') cfg.connections = Number(next());
    else if (a === '--scenarios') cfg.scenarios = list(next());
    else if (a === '--targets') cfg.targets = list(next());
    else if (a === '--plan') cfg.plan = next();
    else if (a === '--backend') cfg.backend = next();
    else if (a === '--loadgen') cfg.loadgen = next();
    else if (a === '--no-pin') cfg.pin = false;
    else if (a === '--quiet-pct') cfg.quietPct = Number(next());
    else if (a === '--quiet-max-wait') cfg.quietMaxWait = Number(next());
    else if (a === '--foreign-max') cfg.foreignMax = Number(next());
    else if (a === '--retries') cfg.retries = Number(next());
    else if (a === '--no-probe') cfg.probe = false;
    else if (a === '--tag') cfg.tag = next();
    else if (a === '--memory') cfg.memory = true;
    else if (a === '--cpu-prof') cfg.cpuProf = true;
    else if (a === '--quick') cfg.quick = true;
    else throw new Error(`unknown option ${a}\n\n${HELP}`);
  }
  if (cfg.quick) {
    if (!argv.includes('--duration') && !env.DURATION) cfg.duration = 5;
    if (!argv.includes('--quiet-max-wait') && !env.QUIET_MAX_WAIT) cfg.quietMaxWait = 20;
    if (!argv.includes('--retries') && !env.RETRIES) cfg.retries = 0;
    cfg.plan ||= 'get:all:3;big,post,sticky,workers1000:direct,lib-express,lib-node,httpproxy-express,httpproxy-node:1';
  }
  cfg.backendPorts = [1, 2, 3, 4].map((i) => cfg.port + i);
  cfg.statsPort = cfg.port + 10;
}

/** [{ scenario, targets, rounds }] from --plan, or every scenario × every target × --rounds. */
function buildPlan() {
  if (!cfg.plan) return cfg.scenarios.map((s) => ({ scenario: s, targets: cfg.targets, rounds: cfg.rounds }));
  const out = [];
  for (const part of cfg.plan.split(';').filter(Boolean)) {
    const [ss, ts, rs] = part.split(':');
    const targets = !ts || ts === 'all' ? cfg.targets : list(ts);
    for (const s of list(ss)) out.push({ scenario: s, targets, rounds: rs ? Number(rs) : cfg.rounds });
  }
  return out;
}

// ------------------------------------------------------------------ processes
const live = new Set();

function pinned(cpu, cmd, args) {
  return cfg.pin ? { cmd: 'taskset', args: ['-c', String(cpu), cmd, ...args] } : { cmd, args };
}

function startProcess(label, cmd, args, extraEnv, cpu) {
  fs.mkdirSync(path.join(RUN_DIR, 'logs'), { recursive: true });
  const logFile = path.join(RUN_DIR, 'logs', `${label}.log`);
  const fd = fs.openSync(logFile, 'a');
  const p = pinned(cpu, cmd, args);
  const child = spawn(p.cmd, p.args, { cwd: BENCH, env: { ...env, ...extraEnv }, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.label = label;
  child.logFile = logFile;
  child.exited = false;
  child.exitInfo = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      child.exited = true;
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      child.exited = true;
      live.delete(child);
      resolve({ code: -1, signal: null, error: err.message });
    });
  });
  live.add(child);
  return child;
}

async function stopProcess(child) {
  if (!child || child.exited) return;
  const tree = procTree(child.pid).map((s) => ({ pid: s.pid, start: s.start }));
  try {
    child.kill('SIGTERM');
  } catch {
    /* gone */
  }
  const t = await Promise.race([child.exitInfo, sleep(8000).then(() => null)]);
  if (t === null && !child.exited) {
    log(`  ${child.label}: no exit 8 s after SIGTERM, SIGKILL ${child.pid}`);
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    await child.exitInfo;
  }
  // descendants (nginx workers): by PID, checking the start time so a reused PID is never hit
  for (let i = 0; i < 30; i++) {
    const left = tree.filter((p) => {
      const s = readStat(p.pid);
      return s && s.start === p.start && s.state !== 'Z';
    });
    if (!left.length) return;
    if (i === 20) {
      for (const p of left) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await sleep(100);
  }
}

async function stopAll() {
  for (const c of [...live]) await stopProcess(c);
}

const tailLog = (file, n = 15) => {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
};

// ------------------------------------------------------------------ http helpers
function portInUse(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitReady(child, port, label, urlPath = '/') {
  const agent = new http.Agent({ keepAlive: false });
  const deadline = Date.now() + cfg.startTimeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    if (child?.exited) throw new Error(`${label} exited during start-up:\n${tailLog(child.logFile)}`);
    last = await httpGet(port, urlPath, agent);
    if (last.status === 200) return;
    await sleep(100);
  }
  throw new Error(`${label}: no 200 on port ${port} within ${cfg.startTimeoutMs} ms (last ${JSON.stringify(last)})`);
}

/** 16 sequential GET / on one keep-alive connection: which backends answered? */
async function balanceCheck(port, urlPath) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const seen = {};
  let bad = 0;
  for (let i = 0; i < 16; i++) {
    const r = await httpGet(port, urlPath, agent);
    const m = r.status === 200 && /^backend (\d+) /.exec(r.body ?? '');
    if (m && r.body.length === BODY_BYTES) seen[m[1]] = (seen[m[1]] || 0) + 1;
    else bad++;
  }
  agent.destroy();
  return { seen, bad };
}

// ------------------------------------------------------------------ load generator
function luaScripts() {
  const dir = path.join(RUN_DIR, 'lua');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'post.lua'),
    `wrk.method = "POST"\nwrk.body = string.rep("p", ${POST_BYTES})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'sticky.lua'),
    [
      'local reqs = {}',
      'local n = 0',
      'init = function(args)',
      '  for i = 1, 4 do',
      `    reqs[i] = wrk.format("GET", "/", { ["Cookie"] = "lang=en; ${STICKY_NAME}=0123456789abcdef" .. i .. ".r" .. i .. "; theme=dark" })`,
      '  end',
      'end',
      'request = function()',
      '  n = n % 4 + 1',
      '  return reqs[n]',
      'end',
      '',
    ].join('\n'),
  );
  return dir;
}

function toMs(v, unit) {
  const n = Number(v);
  return { us: n / 1000, ms: n, s: n * 1000, m: n * 60000, h: n * 3600000 }[unit] ?? null;
}

function parseWrk(out) {
  const r = { rps: null, p50: null, p99: null, requests: null, seconds: null, non2xx: 0, socketErrors: 0 };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (rps) r.rps = Number(rps[1]);
  for (const pct of ['50', '99']) {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(out);
    if (m) r[`p${pct}`] = toMs(m[1], m[2]);
  }
  const tot = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/.exec(out);
  if (tot) {
    r.requests = Number(tot[1]);
    r.seconds = toMs(tot[2], tot[3]) / 1000;
  }
  const n2 = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (n2) r.non2xx = Number(n2[1]);
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (se)
    r.socketErrors = se
      .slice(1)
      .map(Number)
      .reduce((a, b) => a + b, 0);
  return r;
}

function loadCommand(port, urlPath, scenario, seconds) {
  const url = `http://127.0.0.1:${port}${urlPath}`;
  const sc = SCENARIOS[scenario];
  if (cfg.loadgen === 'wrk') {
    const args = ['-t1', `-c${cfg.connections}`, `-d${seconds}s`, '--latency'];
    if (sc.lua) args.push('-s', path.join(RUN_DIR, 'lua', `${sc.lua}.lua`));
    return { cmd: 'wrk', args: [...args, url], parse: parseWrk };
  }
  const o = { url, connections: cfg.connections, duration: seconds };
  if (sc.lua === 'post') Object.assign(o, { method: 'POST', body: 'p'.repeat(POST_BYTES) });
  if (sc.lua === 'sticky') {
    o.requests = [1, 2, 3, 4].map((i) => ({
      headers: { cookie: `lang=en; ${STICKY_NAME}=0123456789abcdef${i}.r${i}; theme=dark` },
    }));
  }
  return {
    cmd: process.execPath,
    args: [path.join(BENCH, 'lib', 'autocannon-run.mjs'), JSON.stringify(o)],
    parse: (out) => JSON.parse(out.trim().split('\n').at(-1)),
  };
}

function runLoad(port, urlPath, scenario, seconds) {
  const lc = loadCommand(port, urlPath, scenario, seconds);
  const p = pinned(cfg.loadCpu, lc.cmd, lc.args);
  return new Promise((resolve, reject) => {
    const child = spawn(p.cmd, p.args, { cwd: BENCH, stdio: ['ignore', 'pipe', 'pipe'] });
    child.label = cfg.loadgen;
    child.exitInfo = new Promise((res) => child.once('exit', res));
    live.add(child);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      live.delete(child);
      child.exited = true;
      if (code !== 0) reject(new Error(`${cfg.loadgen} exited ${code}: ${out}`));
      else {
        try {
          resolve({ ...lc.parse(out), raw: out });
        } catch (err) {
          reject(new Error(`cannot parse ${cfg.loadgen} output (${err.message}): ${out}`));
        }
      }
    });
  });
}

// ------------------------------------------------------------------ backends
async function startBackends() {
  let child;
  if (cfg.backend === 'nginx') {
    const args = prepareNginx(path.join(RUN_DIR, 'nginx-backends'), cfg.backendPorts);
    child = startProcess('backends-nginx', 'nginx', args, {}, cfg.loadCpu);
  } else if (cfg.backend === 'node') {
    child = startProcess(
      'backends-node',
      process.execPath,
      ['backends.mjs'],
      { BACKEND_PORTS: cfg.backendPorts.join(','), NODE_ENV: 'production' },
      cfg.loadCpu,
    );
  } else throw new Error(`BACKEND must be nginx or node, not ${cfg.backend}`);
  for (const p of cfg.backendPorts) {
    await waitReady(child, p, `backend ${p}`);
    const agent = new http.Agent();
    const r = await httpGet(p, '/w7/x', agent);
    if (r.body !== backendBody(p)) throw new Error(`backend ${p} answered ${JSON.stringify(r.body)}`);
    const b = await httpGet(p, `/w7${BIG_PATH}`, agent);
    if (b.body?.length !== BIG_BYTES) throw new Error(`backend ${p}: ${BIG_PATH} gave ${b.body?.length} bytes`);
    agent.destroy();
  }
  return child;
}

function backendUrls(scenario) {
  const n = SCENARIOS[scenario].workers ?? 4;
  const bases = cfg.backendPorts.map((p) => `http://127.0.0.1:${p}`);
  if (!SCENARIOS[scenario].workers) return bases;
  return Array.from({ length: n }, (_, i) => `${bases[i % bases.length]}/w${i}`);
}

// CPU speed probe: ns per element of a fixed compute+memory loop, run on the proxy core (diagnostic)
const PROBE_SRC = `const N=1<<16,a=new Float64Array(N);let x=0x12345678;function w(){for(let i=0;i<N;i++){x^=x<<13;x^=x>>>17;x^=x<<5;a[i]=x>>>0}a.sort();return a[N>>1]}for(let i=0;i<5;i++)w();let s=0;const t=process.hrtime.bigint();for(let i=0;i<10;i++)s+=w();process.stdout.write(String(Number(process.hrtime.bigint()-t)/10/N))`;
function probeCpu() {
  const p = pinned(cfg.proxyCpu, process.execPath, ['-e', PROBE_SRC]);
  const r = spawnSync(p.cmd, p.args, { encoding: 'utf8', timeout: 20000 });
  return round(Number(r.stdout), 1);
}

// ------------------------------------------------------------------ one run
function targetCommand(name, scenario, extraEnv = {}, nodeArgs = []) {
  const t = TARGETS[name];
  const args = [...nodeArgs];
  if (t.library && cfg.cpuProf) {
    args.push(
      '--cpu-prof',
      `--cpu-prof-dir=${path.join(RUN_DIR, 'prof')}`,
      `--cpu-prof-name=${name}-${scenario}-${Date.now()}.cpuprofile`,
    );
  }
  args.push(t.file, t.arg);
  return {
    cmd: process.execPath,
    args,
    env: {
      PORT: String(cfg.port),
      BACKENDS: backendUrls(scenario).join(','),
      NODE_ENV: 'production',
      ...(t.library && SCENARIOS[scenario].sticky && { STICKY: STICKY_NAME }),
      ...extraEnv,
    },
  };
}

async function runOne(ctx, scenario, name, roundNo) {
  const rec = { scenario, target: name, round: roundNo, ok: false };
  const t = TARGETS[name];
  let child = null;
  let port = cfg.port;
  let urlPath = SCENARIOS[scenario].path;
  try {
    if (!t.file) {
      port = cfg.backendPorts[0];
      if (SCENARIOS[scenario].workers) urlPath = `/w0${urlPath}`;
    } else {
      if (await portInUse(cfg.port)) throw new Error(`port ${cfg.port} is already in use`);
      const c = targetCommand(name, scenario);
      child = startProcess(`${scenario}-${name}-r${roundNo}`, c.cmd, c.args, c.env, cfg.proxyCpu);
      await waitReady(child, cfg.port, name);
    }
    const bal = await balanceCheck(port, SCENARIOS[scenario].workers && !t.file ? '/w0/' : '/');
    rec.balance = bal.seen;
    rec.balanceBad = bal.bad;
    rec.quiet = await waitQuiet({ pct: cfg.quietPct, maxWaitS: cfg.quietMaxWait });
    if (cfg.probe) rec.probeNs = probeCpu();
    if (cfg.warmup > 0) await runLoad(port, urlPath, scenario, cfg.warmup);

    const proxyBefore = child ? treeCpuSeconds(child.pid) : null;
    const backBefore = treeCpuSeconds(ctx.backendChild.pid);
    const selfBefore = selfCpu();
    const cpuBefore = cpuTimes();
    const t0 = process.hrtime.bigint();
    const w = await runLoad(port, urlPath, scenario, cfg.duration);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpuAfter = cpuTimes();
    const selfAfter = selfCpu();
    const backAfter = treeCpuSeconds(ctx.backendChild.pid);
    const proxyAfter = child ? treeCpuSeconds(child.pid) : null;

    Object.assign(rec, w);
    rec.wallSeconds = round(wall, 3);
    rec.backendCpuSeconds = round(backAfter.seconds - backBefore.seconds, 2);
    if (child) {
      rec.proxyCpuSeconds = round(proxyAfter.seconds - proxyBefore.seconds, 2);
      rec.proxyCores = round(rec.proxyCpuSeconds / wall, 3);
      rec.reqPerCpuSecond = rec.proxyCpuSeconds > 0 ? Math.round(w.requests / rec.proxyCpuSeconds) : null;
    } else {
      rec.proxyCpuSeconds = null;
      rec.proxyCores = null;
      rec.reqPerCpuSecond = null;
    }
    rec.cpus = cpuBusy(cpuBefore, cpuAfter);
    rec.loadgenCpuSeconds = round(selfAfter.children - selfBefore.children, 2);
    const ours =
      (child ? proxyAfter.seconds - proxyBefore.seconds : 0) +
      (backAfter.seconds - backBefore.seconds) +
      (selfAfter.children - selfBefore.children) +
      (selfAfter.own - selfBefore.own);
    rec.machineBusyCpuSeconds = round(busySeconds(cpuBefore, cpuAfter), 2);
    rec.foreignCores = round(Math.max(0, rec.machineBusyCpuSeconds - ours) / wall, 3);
    rec.distMtime = fs.existsSync(DIST_ENTRY) ? fs.statSync(DIST_ENTRY).mtime.toISOString() : null;
    rec.ok = w.rps !== null && w.rps !== undefined;
  } catch (err) {
    rec.error = String(err?.message ?? err);
    log(`  ERROR ${scenario} ${name}: ${rec.error.split('\n')[0]}`);
  } finally {
    if (child) await stopProcess(child);
  }
  return rec;
}

// ------------------------------------------------------------------ summary
const stat = (rs, k) => {
  const xs = rs.map((r) => r[k]);
  return { median: median(xs), min: minOf(xs), max: maxOf(xs) };
};
const ratio = (a, b) => (a && b ? round(a / b, 3) : null);

function summarize(plan, runs) {
  const out = {};
  for (const { scenario, targets } of plan) {
    const S = (out[scenario] = {});
    for (const name of targets) {
      const rs = runs.filter((r) => r.scenario === scenario && r.target === name && r.ok);
      S[name] = {
        runs: rs.length,
        failed: runs.filter((r) => r.scenario === scenario && r.target === name && !r.ok).length,
        rps: stat(rs, 'rps'),
        p50: stat(rs, 'p50'),
        p99: stat(rs, 'p99'),
        reqPerCpuSecond: stat(rs, 'reqPerCpuSecond'),
        proxyCores: stat(rs, 'proxyCores'),
        foreignCores: stat(rs, 'foreignCores'),
        quietWaitSeconds: rs.reduce((a, r) => a + (r.quiet?.waitedSeconds ?? 0), 0),
        notQuiet: rs.filter((r) => r.quiet && !r.quiet.quiet).length,
        errors: rs.reduce((a, r) => a + (r.non2xx || 0) + (r.socketErrors || 0), 0),
      };
    }
    // ratios: to the bare http-proxy floor of the same host, to HPM defaults and keep-alive, to direct
    const paired = (name, ref, key) => {
      const xs = [];
      for (const r of runs.filter((x) => x.scenario === scenario && x.target === name && x.ok)) {
        const b = runs.find((x) => x.scenario === scenario && x.target === ref && x.ok && x.round === r.round);
        if (b?.[key] && r[key]) xs.push(r[key] / b[key]);
      }
      return xs.length ? round(median(xs), 3) : null;
    };
    for (const name of targets) {
      const s = S[name];
      const host = TARGETS[name].host;
      const floor = host && FLOOR[host] !== name ? FLOOR[host] : null;
      const refs = { floor, hpm: 'hpm-express', hpmKa: 'hpm-ka-express', direct: 'direct' };
      s.vs = {};
      for (const [k, ref] of Object.entries(refs)) {
        if (!ref || ref === name || !S[ref]) continue;
        const f = S[ref];
        s.vs[k] = {
          ref,
          rps: ratio(s.rps.median, f.rps.median),
          rpsPaired: paired(name, ref, 'rps'),
          p50: ratio(s.p50.median, f.p50.median),
          p99: ratio(s.p99.median, f.p99.median),
          reqPerCpuSecond: ratio(s.reqPerCpuSecond.median, f.reqPerCpuSecond.median),
          reqPerCpuSecondPaired: paired(name, ref, 'reqPerCpuSecond'),
        };
      }
    }
  }
  return out;
}

function goals(summary) {
  const g = [];
  const S = summary.get;
  const add = (goal, v, threshold, cmp = '>=') => {
    const met = v === null || v === undefined ? null : cmp === '>=' ? v >= threshold : v <= threshold;
    g.push({ goal, value: v ?? null, threshold, met });
  };
  if (!S) return g;
  for (const [lib, host] of [
    ['lib-express', 'Express'],
    ['lib-node', 'node:http'],
  ]) {
    const f = S[lib]?.vs.floor;
    add(`${lib} ≥ 0.95 × bare http-proxy + keep-alive in ${host} (req/s, ratio of medians)`, f?.rps, 0.95);
    add(`${lib} ≥ 0.95 × bare http-proxy + keep-alive in ${host} (req per proxy CPU-s)`, f?.reqPerCpuSecond, 0.95);
  }
  add('lib-express ≥ 2.5 × Express + http-proxy-middleware defaults (req/s)', S['lib-express']?.vs.hpm?.rps, 2.5);
  add('lib-express ≥ 1.1 × Express + http-proxy-middleware keep-alive (req/s)', S['lib-express']?.vs.hpmKa?.rps, 1.1);
  return g;
}

const f3 = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(2));
const range = (s, d = 0) => (s.median === null ? 'n/a' : `${fmt(s.median, d)} (${fmt(s.min, d)}–${fmt(s.max, d)})`);

function markdown(doc) {
  const { meta, plan, summary, runs } = doc;
  const L = [];
  L.push(`# express-proxy-balancer benchmark — ${meta.date}`, '');
  L.push(`- command: \`${meta.command}\``);
  L.push(`- library: dist/esm built from ${meta.commit}${meta.built ? ' (rebuilt by this run)' : ''}`);
  L.push(`- machine: ${meta.machine.cpus} × ${meta.machine.cpuModel}, Linux ${meta.machine.kernel}`);
  L.push(
    `- versions: Node ${meta.versions.node}; express ${meta.versions.express}; http-proxy-3 ${meta.versions['http-proxy-3']}; http-proxy-middleware ${meta.versions['http-proxy-middleware']}; ${meta.versions.loadgen}; backends ${meta.versions.backend}`,
  );
  L.push(
    `- load: ${cfg.loadgen === 'wrk' ? `\`wrk -t1 -c${cfg.connections} -d${cfg.duration}s --latency\`` : `autocannon -c${cfg.connections} -d${cfg.duration}`} after ${cfg.warmup} s warm-up; targets interleaved, order rotated each round`,
  );
  L.push(
    `- backends: 4 × ${cfg.backend === 'nginx' ? 'nginx (one process, 1 worker)' : 'node:http (one process)'} on ${cfg.backendPorts.join(', ')}; pinning: ${cfg.pin ? `target on CPU ${cfg.proxyCpu}, backends + load generator + harness on CPU ${cfg.loadCpu}` : 'none'}`,
  );
  L.push(
    `- quiet gate: ≤ ${cfg.quietPct} % machine busy, ≤ ${cfg.quietMaxWait} s wait; ${meta.quiet.waitedSeconds} s waited in all, ${meta.quiet.notQuiet} of ${meta.quiet.runs} runs started without a quiet moment; re-runs when others used > ${cfg.foreignMax} cores: ${cfg.retries} at most (${doc.discardedAttempts.length} attempts replaced)`,
  );
  L.push(`- plan: ${plan.map((p) => `${p.scenario} × [${p.targets.join(', ')}] × ${p.rounds}`).join('; ')}`, '');
  L.push('## Goals (plain GET)', '');
  L.push('| goal | measured | met |');
  L.push('|---|---:|---|');
  for (const g of doc.goals)
    L.push(`| ${g.goal} | ${f3(g.value)} | ${g.met === null ? 'n/a' : g.met ? 'met' : 'not met'} |`);
  for (const { scenario } of plan.filter((p, i) => plan.findIndex((q) => q.scenario === p.scenario) === i)) {
    const S = summary[scenario];
    L.push('', `## ${scenario}: ${SCENARIOS[scenario].what}`, '');
    L.push(
      '| target | req/s median (min–max) | p50 ms | p99 ms | req per proxy CPU-s | × floor req/s (paired) | × floor p50 | × floor p99 | × floor req/CPU-s | × HPM req/s | × HPM-ka req/s | × direct req/s | runs | errors | others, cores |',
    );
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const [name, s] of Object.entries(S)) {
      const v = s.vs;
      const fl = v.floor
        ? `${f3(v.floor.rps)} (${f3(v.floor.rpsPaired)})`
        : name.startsWith('httpproxy')
          ? '1 (floor)'
          : '—';
      L.push(
        `| ${name} | ${range(s.rps)} | ${fmt(s.p50.median, 2)} | ${fmt(s.p99.median, 2)} | ${range(s.reqPerCpuSecond)} | ${fl} | ${f3(v.floor?.p50)} | ${f3(v.floor?.p99)} | ${f3(v.floor?.reqPerCpuSecond)} | ${f3(v.hpm?.rps)} | ${f3(v.hpmKa?.rps)} | ${f3(v.direct?.rps)} | ${s.runs}${s.failed ? ` (+${s.failed} failed)` : ''} | ${s.errors} | ${fmt(s.foreignCores.median, 2)} (${fmt(s.foreignCores.max, 2)}) |`,
      );
    }
  }
  L.push('', '## Targets', '');
  for (const [k, t] of Object.entries(TARGETS))
    L.push(`- \`${k}\`: ${t.what}${t.host ? ` — floor: \`${FLOOR[t.host]}\`` : ''}`);
  L.push(
    '',
    '× floor: ratio of medians to the bare http-proxy + keep-alive target of the same host (Express: `httpproxy-express`; node:http: `httpproxy-node`), "paired" = median over rounds of the per-round ratio. For p50/p99 a ratio below 1 is better; for req/s and req per CPU-s above 1 is better. × HPM / × HPM-ka: req/s ÷ Express + http-proxy-middleware with defaults / with a keep-alive agent.',
  );
  L.push('', '## All runs (execution order)', '');
  L.push(
    '| # | round | scenario | target | req/s | p50 ms | p99 ms | proxy CPU s | req per CPU-s | backend CPU s | load-gen CPU s | CPU0 | CPU1 | others, cores | quiet wait s | probe ns | errors | balance |',
  );
  L.push('|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  runs.forEach((r, i) => {
    if (!r.ok) {
      L.push(
        `| ${i + 1} | ${r.round} | ${r.scenario} | ${r.target} | FAILED: ${String(r.error).split('\n')[0].replace(/\|/g, '/')} |||||||||||||`,
      );
      return;
    }
    const bal =
      Object.entries(r.balance || {})
        .map(([p, n]) => `${p}×${n}`)
        .join(' ') + (r.balanceBad ? ` bad×${r.balanceBad}` : '');
    L.push(
      `| ${i + 1} | ${r.round} | ${r.scenario} | ${r.target} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${r.proxyCpuSeconds ?? 'n/a'} | ${fmt(r.reqPerCpuSecond)} | ${r.backendCpuSeconds} | ${r.loadgenCpuSeconds} | ${fmt(r.cpus?.cpu0?.busyPct, 0)}% | ${fmt(r.cpus?.cpu1?.busyPct, 0)}% | ${fmt(r.foreignCores, 2)} | ${r.quiet?.waitedSeconds ?? ''}${r.quiet && !r.quiet.quiet ? ' (not quiet)' : ''} | ${r.probeNs ?? ''} | ${(r.non2xx || 0) + (r.socketErrors || 0)} | ${bal} |`,
    );
  });
  L.push('');
  return L.join('\n');
}

// ------------------------------------------------------------------ memory mode
async function memStats(agent, gc) {
  const r = await httpGet(cfg.statsPort, gc ? '/mem?gc=1' : '/mem', agent);
  if (r.status !== 200) throw new Error(`stats endpoint: ${JSON.stringify(r)}`);
  return JSON.parse(r.body);
}
const mib = (b) => round(b / 1048576, 2);

async function memoryMode() {
  const agent = new http.Agent({ keepAlive: false });
  const name = cfg.memoryHost === 'express' ? 'lib-express' : 'lib-node';
  const start = (label, scenario) => {
    const c = targetCommand(name, scenario, { STATS_PORT: String(cfg.statsPort) }, ['--expose-gc']);
    return startProcess(label, c.cmd, c.args, c.env, cfg.proxyCpu);
  };
  const out = { target: name, requestsGoal: cfg.memoryRequests, series: [], perWorker: {} };
  // 1. the long run
  let child = start('memory-long', 'get');
  try {
    await waitReady(child, cfg.port, name);
    const s0 = await memStats(agent, true);
    out.series.push({
      requests: 0,
      heapUsed: s0.heapUsed,
      rss: s0.rss,
      external: s0.external,
      arrayBuffers: s0.arrayBuffers,
    });
    log(`memory: start heapUsed ${mib(s0.heapUsed)} MiB rss ${mib(s0.rss)} MiB (after GC)`);
    let total = 0;
    out.quiet = await waitQuiet({ pct: cfg.quietPct, maxWaitS: cfg.quietMaxWait });
    const t0 = Date.now();
    while (total < cfg.memoryRequests) {
      const w = await runLoad(cfg.port, '/', 'get', cfg.memoryChunk);
      total += w.requests;
      const noGc = await memStats(agent, false);
      const s = await memStats(agent, true);
      out.series.push({
        requests: total,
        rps: Math.round(w.rps),
        heapUsed: s.heapUsed,
        rss: s.rss,
        external: s.external,
        arrayBuffers: s.arrayBuffers,
        heapUsedBeforeGc: noGc.heapUsed,
        rssBeforeGc: noGc.rss,
        errors: (w.non2xx || 0) + (w.socketErrors || 0),
        non2xx: w.non2xx || 0,
        socketErrors: w.socketErrors || 0,
      });
      log(
        `memory: ${fmt(total)} requests (${fmt(w.rps)} req/s) heapUsed ${mib(s.heapUsed)} MiB rss ${mib(s.rss)} MiB (after GC)`,
      );
    }
    out.seconds = Math.round((Date.now() - t0) / 1000);
  } finally {
    await stopProcess(child);
  }
  // 2. memory per worker: 4 vs 1 000 members, fresh processes, after GC; idle, then after a short load
  for (const [label, scenario] of [
    ['w4', 'get'],
    ['w1000', 'workers1000'],
  ]) {
    child = start(`memory-${label}`, scenario);
    try {
      await waitReady(child, cfg.port, `${name} ${label}`);
      const idle = await memStats(agent, true);
      const w = await runLoad(cfg.port, '/', scenario, 10);
      const loaded = await memStats(agent, true);
      out.perWorker[label] = { workers: idle.workers, idle, loaded, rps: Math.round(w.rps) };
    } finally {
      await stopProcess(child);
    }
  }
  const a = out.perWorker.w4;
  const b = out.perWorker.w1000;
  const dn = b.workers - a.workers;
  out.bytesPerWorker = {
    idleHeap: Math.round((b.idle.heapUsed - a.idle.heapUsed) / dn),
    idleRss: Math.round((b.idle.rss - a.idle.rss) / dn),
    loadedHeap: Math.round((b.loaded.heapUsed - a.loaded.heapUsed) / dn),
    loadedRss: Math.round((b.loaded.rss - a.loaded.rss) / dn),
  };
  return out;
}

function memoryMarkdown(meta, m) {
  const L = [];
  const first = m.series[0];
  const warm = m.series[1];
  const last = m.series.at(-1);
  L.push(`# express-proxy-balancer memory benchmark — ${meta.date}`, '');
  L.push(`- command: \`${meta.command}\``);
  L.push(
    `- library: dist/esm built from ${meta.commit}; target \`${m.target}\` with --expose-gc; figures after a full GC via the stats port`,
  );
  L.push(
    `- ${fmt(last.requests)} requests (GET /, 4 workers) in ${m.seconds} s of ${cfg.memoryChunk}-second ${cfg.loadgen} chunks (c${cfg.connections}); quiet gate waited ${m.quiet.waitedSeconds} s`,
    '',
  );
  L.push(
    '| after requests | req/s of chunk | heapUsed MiB | RSS MiB | external MiB | heapUsed before GC MiB | errors |',
  );
  L.push('|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of m.series) {
    L.push(
      `| ${fmt(s.requests)} | ${s.rps ? fmt(s.rps) : '—'} | ${mib(s.heapUsed)} | ${mib(s.rss)} | ${mib(s.external)} | ${s.heapUsedBeforeGc ? mib(s.heapUsedBeforeGc) : '—'} | ${s.errors ?? '—'} |`,
    );
  }
  L.push('');
  L.push(
    `Start → end: heapUsed ${mib(first.heapUsed)} → ${mib(last.heapUsed)} MiB, RSS ${mib(first.rss)} → ${mib(last.rss)} MiB. After the first chunk (warm: JIT code, sockets, agents) → end: heapUsed ${mib(warm.heapUsed)} → ${mib(last.heapUsed)} MiB (${fmt(((last.heapUsed - warm.heapUsed) / warm.heapUsed) * 100, 1)} %), RSS ${mib(warm.rss)} → ${mib(last.rss)} MiB (${fmt(((last.rss - warm.rss) / warm.rss) * 100, 1)} %).`,
    '',
  );
  L.push('## Memory per worker (1 000 vs 4 members, fresh processes, after GC)', '');
  L.push('| members | heapUsed idle MiB | RSS idle MiB | heapUsed after 10 s load MiB | RSS after load MiB | req/s |');
  L.push('|---:|---:|---:|---:|---:|---:|');
  for (const k of ['w4', 'w1000']) {
    const p = m.perWorker[k];
    L.push(
      `| ${p.workers} | ${mib(p.idle.heapUsed)} | ${mib(p.idle.rss)} | ${mib(p.loaded.heapUsed)} | ${mib(p.loaded.rss)} | ${fmt(p.rps)} |`,
    );
  }
  const bw = m.bytesPerWorker;
  L.push(
    '',
    `Per worker: ${fmt(bw.idleHeap)} B heap (${fmt(bw.idleRss)} B RSS) as configured; ${fmt(bw.loadedHeap)} B heap (${fmt(bw.loadedRss)} B RSS) once every worker has been used (its agent and pooled sockets included).`,
    '',
  );
  return L.join('\n');
}

// ------------------------------------------------------------------ profile summary
function profileTop(file, limit = 25) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const { samples, timeDeltas, nodes } = prof;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) ?? 0) + (timeDeltas[i] ?? 0));
  const label = (n) => {
    const cf = n.callFrame;
    const where = cf.url
      ? `${cf.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')}:${cf.lineNumber + 1}`
      : '(native)';
    return `${cf.functionName || '(anonymous)'} ${where}`;
  };
  // self time per function; inclusive time per dist/ function (counted once per stack)
  const selfBy = new Map();
  const inclBy = new Map();
  let busy = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    const k = label(n);
    selfBy.set(k, (selfBy.get(k) ?? 0) + us);
    if (n.callFrame.functionName === '(idle)') continue;
    busy += us;
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = label(byId.get(cur));
      if (!kk.includes('dist/esm/') || seen.has(kk)) continue;
      seen.add(kk);
      inclBy.set(kk, (inclBy.get(kk) ?? 0) + us);
    }
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  const pct = (us) => `${((100 * us) / busy).toFixed(2)} %`;
  const rows = sorted(selfBy).filter(([k]) => !k.startsWith('(idle)'));
  const dist = rows.filter(([k]) => k.includes('dist/esm/'));
  const distSelf = dist.reduce((a, [, us]) => a + us, 0);
  const L = [
    `## ${path.basename(file)}: ${(busy / 1e6).toFixed(1)} s of busy samples (idle left out; % of busy time)`,
    '',
  ];
  L.push(`Top ${limit} self time overall:`, '');
  for (const [k, us] of rows.slice(0, limit)) L.push(`- ${pct(us)}  ${k}`);
  L.push('', `Self time in library code (dist/esm), ${pct(distSelf)} in total:`, '');
  for (const [k, us] of dist.slice(0, limit)) L.push(`- ${pct(us)}  ${k}`);
  L.push('', 'Inclusive time of library functions (self + everything they call, synchronously):', '');
  for (const [k, us] of sorted(inclBy).slice(0, limit)) L.push(`- ${pct(us)}  ${k}`);
  return L.join('\n');
}

/** `node bench/run.mjs --profile-top FILE.cpuprofile`: the same summary for any saved profile. */
// ------------------------------------------------------------------ main
async function main() {
  if (process.argv[2] === '--profile-top') {
    for (const f of process.argv.slice(3)) console.log(profileTop(f) + '\n');
    return 0;
  }
  parseArgs(process.argv.slice(2));
  const plan = buildPlan();
  for (const p of plan) {
    if (!SCENARIOS[p.scenario])
      throw new Error(`unknown scenario ${p.scenario}; one of ${Object.keys(SCENARIOS).join(', ')}`);
    for (const t of p.targets)
      if (!TARGETS[t]) throw new Error(`unknown target ${t}; one of ${Object.keys(TARGETS).join(', ')}`);
  }
  const bins = [cfg.loadgen === 'wrk' ? 'wrk' : null, cfg.backend === 'nginx' ? 'nginx' : null].filter(Boolean);
  for (const b of bins) if (!which(b)) throw new Error(`${b} is not installed (LOADGEN=autocannon / BACKEND=node)`);
  if (cfg.pin && (!which('taskset') || os.cpus().length < 2)) {
    log('no taskset or fewer than 2 CPUs: running without pinning');
    cfg.pin = false;
  }
  for (const p of [cfg.port, ...cfg.backendPorts, cfg.statsPort]) {
    if (await portInUse(p)) throw new Error(`port ${p} is already in use (BENCH_PORT moves the range)`);
  }
  const { built } = await ensureBuilt();
  if (cfg.pin) spawnSync('taskset', ['-pc', cfg.loadCpu, String(process.pid)], { stdio: 'ignore' });
  fs.rmSync(RUN_DIR, { recursive: true, force: true });
  fs.mkdirSync(RUN_DIR, { recursive: true });
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  luaScripts();

  const first = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout || ''}${r.stderr || ''}`.split('\n').find((l) => l.trim()) ?? 'unknown';
  };
  const meta = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    commit: gitHead(),
    built,
    machine: { cpus: os.cpus().length, cpuModel: (os.cpus()[0]?.model ?? 'unknown').trim(), kernel: os.release() },
    versions: {
      node: process.version,
      express: pkgVersion('express'),
      'http-proxy-3': pkgVersion('http-proxy-3'),
      'http-proxy-middleware': pkgVersion('http-proxy-middleware'),
      loadgen:
        cfg.loadgen === 'wrk'
          ? first('wrk', ['--version']).replace(/ Copyright.*$/, '')
          : `autocannon ${pkgVersion('autocannon')}`,
      backend:
        cfg.backend === 'nginx' ? first('nginx', ['-v']).replace('nginx version: ', '') : `node ${process.version}`,
    },
    config: { ...cfg },
  };
  const ctx = {};
  try {
    ctx.backendChild = await startBackends();
    log(`backends up (${cfg.backend}) on ${cfg.backendPorts.join(',')}; load generator ${cfg.loadgen}`);
    if (cfg.memory) {
      const m = await memoryMode();
      await stopAll();
      const base = path.join(RESULTS_DIR, `${stamp(meta.date)}-memory${cfg.tag ? `-${cfg.tag}` : ''}`);
      fs.writeFileSync(`${base}.json`, JSON.stringify({ meta, memory: m }, null, 2) + '\n');
      const md = memoryMarkdown(meta, m);
      fs.writeFileSync(`${base}.md`, md);
      console.log('\n' + md);
      log(`wrote ${path.relative(ROOT, base)}.md and .json`);
      return 0;
    }
    const runs = [];
    const attempts = [];
    const maxRounds = Math.max(...plan.map((p) => p.rounds));
    for (let r = 1; r <= maxRounds; r++) {
      for (const p of plan.filter((x) => x.rounds >= r)) {
        const rot = (r - 1) % p.targets.length;
        const order = [...p.targets.slice(rot), ...p.targets.slice(0, rot)];
        log(`round ${r}/${maxRounds} ${p.scenario}: ${order.join(' ')}`);
        for (const name of order) {
          const tries = [];
          for (let a = 0; a <= cfg.retries; a++) {
            const rec = await runOne(ctx, p.scenario, name, r);
            rec.attempt = a + 1;
            tries.push(rec);
            attempts.push(rec);
            if (rec.ok) {
              log(
                `  ${name.padEnd(18)} ${fmt(rec.rps).padStart(7)} req/s  p50 ${fmt(rec.p50, 2)} ms  p99 ${fmt(rec.p99, 2)} ms  ${rec.reqPerCpuSecond ? `${fmt(rec.reqPerCpuSecond)} req/CPU-s` : ''}  others ${rec.foreignCores} cores, quiet wait ${rec.quiet.waitedSeconds} s${rec.non2xx || rec.socketErrors ? `  ERRORS non2xx=${rec.non2xx} socket=${rec.socketErrors}` : ''}  balance ${JSON.stringify(rec.balance)}`,
              );
            }
            if (!rec.ok || rec.foreignCores <= cfg.foreignMax) break;
            if (a < cfg.retries)
              log(`  ${name}: disturbed (others ${rec.foreignCores} cores > ${cfg.foreignMax}), again`);
          }
          const okTries = tries.filter((t) => t.ok);
          const kept = okTries.length
            ? okTries.reduce((b, t) => (t.foreignCores < b.foreignCores ? t : b))
            : tries.at(-1);
          kept.attempts = tries.length;
          runs.push(kept);
        }
      }
    }
    await stopAll();
    meta.quiet = {
      runs: runs.length,
      waitedSeconds: Math.round(runs.reduce((a, r) => a + (r.quiet?.waitedSeconds ?? 0), 0)),
      notQuiet: runs.filter((r) => r.quiet && !r.quiet.quiet).length,
    };
    const summary = summarize(plan, runs);
    const doc = {
      meta,
      plan,
      summary,
      goals: goals(summary),
      runs,
      discardedAttempts: attempts.filter((a) => !runs.includes(a)),
    };
    const base = path.join(RESULTS_DIR, `${stamp(meta.date)}${cfg.tag ? `-${cfg.tag}` : ''}`);
    const md = markdown(doc);
    fs.writeFileSync(`${base}.json`, JSON.stringify(doc, null, 2) + '\n');
    fs.writeFileSync(`${base}.md`, md);
    console.log('\n' + md.split('## Targets')[0]);
    log(`wrote ${path.relative(ROOT, base)}.md and .json`);
    if (cfg.cpuProf) {
      const dir = path.join(RUN_DIR, 'prof');
      for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) console.log('\n' + profileTop(path.join(dir, f)));
    }
    return runs.every((r) => r.ok) ? 0 : 1;
  } finally {
    await stopAll();
  }
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping everything started`);
    void stopAll().then(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(String(err?.stack ?? err));
    await stopAll();
    process.exit(2);
  },
);
