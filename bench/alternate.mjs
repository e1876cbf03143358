// Paired throughput on a noisy machine: every target runs at once (pinned to CPU 1, idle except
// during its own burst), and short wrk bursts go to one target after another, round after round.
// Noise from other tenants changes slowly compared with a 1-s burst, so the ratio of two targets'
// neighbouring bursts is far steadier than whole runs minutes apart (bench/run.mjs).
//
//   npm run bench:alternate                                   node:http host, 4 blocks × 8 rounds of 1-s bursts
//   npm run bench:alternate -- --host express --rounds 6      Express host (+ both HPM variants)
//   npm run bench:alternate -- --host all --rounds 6          both hosts and every peer in one run
//   npm run bench:alternate -- --blocks 6 --burst 2 --tag X
//
// Metric: requests per proxy CPU-second of each burst (utime+stime from /proc, 10-ms ticks: ≈ 1 %
// resolution at 1 s). Reported: per-target median and top quartile, and the median over rounds of
// each target's ratio to the floor (bare http-proxy-3, the engine, + keep-alive in the same host) in the same round,
// and each library target's paired ratio to every other target (the performance goals: × http-proxy-middleware).
// Backends: 4 × nginx (one worker) when installed, else bench/backends.mjs; ports 19401–19404,
// targets 19420+. Results go to bench/results/<UTC date>-alternate-<host>.md.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  BENCH,
  CLK_TCK,
  ROOT,
  RESULTS_DIR,
  RUN_DIR,
  ensureBuilt,
  median,
  readStat,
  sleep,
  stamp,
  which,
} from './lib/common.mjs';
import { httpGet, prepareNginx } from './lib/backends.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : args[i + 1];
};
const host = opt('host', 'node');
const blocks = Number(opt('blocks', 4));
const rounds = Number(opt('rounds', 8));
const burst = Number(opt('burst', 1));
const tag = opt('tag', '');
if (!which('wrk') || !which('taskset')) {
  console.error('bench:alternate needs wrk and taskset (apt-get install wrk util-linux)');
  process.exit(2);
}

const TARGETS = {
  node: [
    ['httpproxy-node', 'bench/targets/baseline.mjs', 'httpproxy-node'],
    ['lib-node', 'bench/targets/library.mjs', 'node'],
    // The engine before (http-proxy 1.18.1), against the floor (bare http-proxy-3).
    ['httpproxy1-node', 'bench/targets/baseline.mjs', 'httpproxy1-node'],
  ],
  express: [
    ['httpproxy-express', 'bench/targets/baseline.mjs', 'httpproxy-express'],
    ['lib-express', 'bench/targets/library.mjs', 'express'],
    ['hpm-express', 'bench/targets/baseline.mjs', 'hpm-express'],
    ['hpm-ka-express', 'bench/targets/baseline.mjs', 'hpm-ka-express'],
  ],
  // Both hosts in one run: what mounting the balancer in Express costs, against the same peers.
  all: [
    ['httpproxy-express', 'bench/targets/baseline.mjs', 'httpproxy-express'],
    ['lib-express', 'bench/targets/library.mjs', 'express'],
    ['hpm-express', 'bench/targets/baseline.mjs', 'hpm-express'],
    ['hpm-ka-express', 'bench/targets/baseline.mjs', 'hpm-ka-express'],
    ['httpproxy-node', 'bench/targets/baseline.mjs', 'httpproxy-node'],
    ['lib-node', 'bench/targets/library.mjs', 'node'],
  ],
}[host];
if (!TARGETS) {
  console.error('--host node|express|all');
  process.exit(2);
}

const runDir = path.join(RUN_DIR, 'alternate');
fs.rmSync(runDir, { recursive: true, force: true });
const backendPorts = [19401, 19402, 19403, 19404];
const children = [];
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
};
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

function startBackends() {
  if (which('nginx')) {
    return spawn('taskset', ['-c', '0', 'nginx', ...prepareNginx(runDir, backendPorts)], { stdio: 'ignore' });
  }
  fs.mkdirSync(runDir, { recursive: true });
  return spawn('taskset', ['-c', '0', process.execPath, path.join(BENCH, 'backends.mjs')], {
    env: { ...process.env, BACKEND_PORTS: backendPorts.join(',') },
    stdio: 'ignore',
  });
}

const cpuSeconds = (pid) => {
  const st = readStat(pid);
  return (st.utime + st.stime) / CLK_TCK;
};

/** Polls GET / until 200 (a fresh process on `port`), at most 30 s. */
async function waitFor200(port) {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
    if ((await httpGet(port, '/')).status === 200) return;
  }
  throw new Error(`nothing answers 200 on 127.0.0.1:${port}`);
}
const wrk = (port, seconds) =>
  execFileSync('taskset', ['-c', '0', 'wrk', '-t1', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  });
const topQuartile = (a) => median([...a].sort((x, y) => y - x).slice(0, Math.ceil(a.length / 4)));

async function main() {
  await ensureBuilt();
  children.push(startBackends());
  for (const p of backendPorts) await waitFor200(p);
  const BACKENDS = backendPorts.map((p) => `http://127.0.0.1:${p}`).join(',');
  const targets = TARGETS.map(([id]) => ({ id, values: [] }));
  // Blocks: all targets restarted, in a start order rotated by one, on new ports. Where a process
  // lands (start order, port) moved a target by a few per cent between otherwise equal runs.
  for (let b = 0; b < blocks; b++) {
    const running = TARGETS.map((_, i) => {
      const k = (i + b) % TARGETS.length;
      const [, script, arg] = TARGETS[k];
      const port = 19420 + ((b * TARGETS.length + i) % 60);
      const p = spawn('taskset', ['-c', '1', process.execPath, path.join(ROOT, script), arg], {
        env: { ...process.env, PORT: String(port), BACKENDS, NODE_ENV: 'production' },
        stdio: 'ignore',
      });
      children.push(p);
      return { target: targets[k], port, p };
    });
    for (const x of running) await waitFor200(x.port);
    for (const x of running) wrk(x.port, 2); // warm-up, discarded
    for (let r = 0; r < rounds; r++) {
      // Rotated each round, so no target always follows the same one.
      for (let k = 0; k < running.length; k++) {
        const x = running[(r + k) % running.length];
        const c0 = cpuSeconds(x.p.pid);
        const out = wrk(x.port, burst);
        const c1 = cpuSeconds(x.p.pid);
        x.target.values.push(Number(/(\d+) requests in/.exec(out)[1]) / (c1 - c0));
      }
    }
    for (const x of running) x.p.kill('SIGTERM');
    await sleep(500);
  }
  stopAll();
  const floor = targets[0];
  const date = new Date().toISOString();
  const lines = [
    `# Alternating bursts — ${host} host — ${date}`,
    '',
    `- command: \`npm run bench:alternate -- ${args.join(' ')}\``,
    `- ${blocks} blocks (targets restarted, start order rotated) × ${rounds} rounds × ${burst}-s wrk -t1 -c50 bursts per target, order rotated each round; targets all running, pinned to CPU 1; wrk and backends on CPU 0`,
    `- Node ${process.version}; backends ${which('nginx') ? '4 × nginx' : '4 × node:http'}`,
    '',
    '| target | req per CPU-s, median | top quartile | × floor, median of paired rounds | × floor, top quartiles |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const t of targets) {
    const paired = median(t.values.map((v, i) => v / floor.values[i]));
    lines.push(
      `| ${t.id} | ${median(t.values).toFixed(0)} | ${topQuartile(t.values).toFixed(0)} | ${paired.toFixed(3)} | ${(topQuartile(t.values) / topQuartile(floor.values)).toFixed(3)} |`,
    );
  }
  // The goals compare the library with each peer directly: ratios of the same round's bursts.
  const libs = targets.filter((t) => t.id.startsWith('lib-'));
  lines.push('', `| × | ${libs.map((l) => l.id).join(' | ')} |`, `|---|${libs.map(() => '---:').join('|')}|`);
  for (const t of targets) {
    if (libs.includes(t)) continue;
    const cells = libs.map((l) => median(l.values.map((v, i) => v / t.values[i])).toFixed(3));
    lines.push(`| ${t.id} | ${cells.join(' | ')} |`);
  }
  lines.push('', 'Every burst (req per CPU-s):', '');
  for (const t of targets) lines.push(`- ${t.id}: ${t.values.map((v) => v.toFixed(0)).join(' ')}`);
  const md = lines.join('\n') + '\n';
  const file = path.join(RESULTS_DIR, `${stamp(date)}-alternate-${host}${tag ? `-${tag}` : ''}.md`);
  fs.writeFileSync(file, md);
  process.stdout.write(md + `\nwrote ${path.relative(process.cwd(), file)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
