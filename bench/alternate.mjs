// Paired throughput on a noisy machine: every target runs at once (pinned to CPU 1, idle except
// during its own burst), and short wrk bursts go to one target after another, round after round.
// Noise from other tenants changes slowly compared with a 1-s burst, so the ratio of two targets'
// neighbouring bursts is far steadier than whole runs minutes apart (bench/run.mjs).
//
//   npm run bench:alternate                                   node:http host, 4 blocks × 8 rounds of 1-s bursts
//   npm run bench:alternate -- --host express --rounds 6      Express host (+ both HPM variants)
//   npm run bench:alternate -- --blocks 6 --burst 2 --tag X
//
// Metric: requests per proxy CPU-second of each burst (utime+stime from /proc, 10-ms ticks: ≈ 1 %
// resolution at 1 s). Reported: per-target median and top quartile, and the median over rounds of
// each target's ratio to the floor (bare http-proxy + keep-alive in the same host) in the same round.
// Backends: 4 × nginx (one worker) when installed, else bench/backends.mjs; ports 19401–19404,
// targets 19420+. Results go to bench/results/<UTC date>-alternate-<host>.md.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
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
const which = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
if (!which('wrk') || !which('taskset')) {
  console.error('bench:alternate needs wrk and taskset (apt-get install wrk util-linux)');
  process.exit(2);
}

const TARGETS = {
  node: [
    ['httpproxy-node', 'bench/targets/baseline.mjs', 'httpproxy-node'],
    ['lib-node', 'bench/targets/library.mjs', 'node'],
  ],
  express: [
    ['httpproxy-express', 'bench/targets/baseline.mjs', 'httpproxy-express'],
    ['lib-express', 'bench/targets/library.mjs', 'express'],
    ['hpm-express', 'bench/targets/baseline.mjs', 'hpm-express'],
    ['hpm-ka-express', 'bench/targets/baseline.mjs', 'hpm-ka-express'],
  ],
}[host];
if (!TARGETS) {
  console.error('--host node|express');
  process.exit(2);
}

const runDir = path.join(here, '.run', 'alternate');
fs.rmSync(runDir, { recursive: true, force: true });
fs.mkdirSync(runDir, { recursive: true });
const backendPorts = [19401, 19402, 19403, 19404];
const children = [];
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
};
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

function startBackends() {
  if (which('nginx')) {
    const servers = backendPorts
      .map((p) => `server { listen 127.0.0.1:${p}; location / { return 200 "${'a'.repeat(99)}\\n"; } }`)
      .join('\n');
    const conf = `worker_processes 1; daemon off; pid ${runDir}/nginx.pid; error_log ${runDir}/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_timeout 65s; keepalive_requests 1000000; ${servers} }`;
    fs.writeFileSync(path.join(runDir, 'nginx.conf'), conf);
    return spawn('taskset', ['-c', '0', 'nginx', '-c', path.join(runDir, 'nginx.conf'), '-p', runDir], {
      stdio: 'ignore',
    });
  }
  return spawn('taskset', ['-c', '0', process.execPath, path.join(here, 'backends.mjs')], {
    env: { ...process.env, BACKEND_PORTS: backendPorts.join(',') },
    stdio: 'ignore',
  });
}

const cpuSeconds = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const wrk = (port, seconds) =>
  execFileSync('taskset', ['-c', '0', 'wrk', '-t1', '-c50', `-d${seconds}s`, `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  });
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const topQuartile = (a) => median([...a].sort((x, y) => y - x).slice(0, Math.ceil(a.length / 4)));

async function main() {
  if (!fs.existsSync(path.join(here, '..', 'dist', 'esm', 'index.js'))) {
    execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
  }
  children.push(startBackends());
  const BACKENDS = backendPorts.map((p) => `http://127.0.0.1:${p}`).join(',');
  const targets = TARGETS.map(([id]) => ({ id, values: [] }));
  // Blocks: all targets restarted, in a start order rotated by one, on new ports. Where a process
  // lands (start order, port) moved a target by a few per cent between otherwise equal runs.
  for (let b = 0; b < blocks; b++) {
    const running = TARGETS.map((_, i) => {
      const k = (i + b) % TARGETS.length;
      const [, script, arg] = TARGETS[k];
      const port = 19420 + ((b * TARGETS.length + i) % 60);
      const p = spawn('taskset', ['-c', '1', process.execPath, path.join(here, '..', script), arg], {
        env: { ...process.env, PORT: String(port), BACKENDS, NODE_ENV: 'production' },
        stdio: 'ignore',
      });
      children.push(p);
      return { target: targets[k], port, p };
    });
    await delay(5000);
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
    await delay(500);
  }
  stopAll();
  const floor = targets[0];
  const lines = [
    `# Alternating bursts — ${host} host — ${new Date().toISOString()}`,
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
  lines.push('', 'Every burst (req per CPU-s):', '');
  for (const t of targets) lines.push(`- ${t.id}: ${t.values.map((v) => v.toFixed(0)).join(' ')}`);
  const md = lines.join('\n') + '\n';
  const file = path.join(
    here,
    'results',
    `${new Date().toISOString().replace(/:/g, '-').replace(/\..*/, 'Z')}-alternate-${host}${tag ? `-${tag}` : ''}.md`,
  );
  fs.writeFileSync(file, md);
  process.stdout.write(md + `\nwrote ${path.relative(process.cwd(), file)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
