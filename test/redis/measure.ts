// Measurements for docs/scale-out.md (not part of the test suite: `npm run measure:redis`).
//   1. Propagation: 1 000 manager edits on instance A (disable / enable a worker in turn), each timed
//      from just before the PATCH is sent until instance B reports the state change over IPC.
//   2. Throughput: wrk (or autocannon) against one instance with the Redis store, then the memory
//      store, alternated over several rounds; same host, same backend.
// Options (environment): EDITS (1000), ROUNDS (3), SECONDS (5), CONNECTIONS (20).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from '../support/http.js';
import { startUpstreams, stopAll } from '../support/upstreams.js';
import { RedisServer, redisSkip } from './redis-server.js';
import { Instance } from './instances.js';

const EDITS = Number(process.env.EDITS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);

if (redisSkip()) process.exit(0);

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

const redis = await new RedisServer().start();
const ups = await startUpstreams('a', 'b');
const instances: Instance[] = [];
try {
  // ---------------------------------------------------------------- propagation
  const members = ups.map((u) => ({ url: u.url }));
  const prefix = `measure-${process.pid}:`;
  const a = await Instance.start({ redis: redis.url, prefix, instanceId: 'pa', members });
  instances.push(a);
  const b = await Instance.start({ redis: redis.url, prefix, instanceId: 'pb', members, events: true });
  instances.push(b);
  const target = ups[1]!.url;
  const info = await request(a.base, '/balancer-manager/api/balancers/app');
  const nonce = (JSON.parse(info.body) as { balancer: { nonce: string } }).balancer.nonce;
  const latencies: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const disable = i % 2 === 0;
    const seen = new Promise<number>((resolve) => {
      const off = b.onState((e) => {
        if (e.worker === target && e.to.includes('D') === disable) {
          off();
          resolve(e.at);
        }
      });
    });
    const sent = performance.timeOrigin + performance.now();
    const r = await request(a.base, `/balancer-manager/api/balancers/app/workers/${encodeURIComponent(target)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', origin: a.base, 'x-balancer-nonce': nonce },
      body: JSON.stringify({ flags: { D: disable } }),
    });
    if (r.status !== 200) throw new Error(`edit ${i}: ${r.status} ${r.body}`);
    latencies.push((await seen) - sent);
  }
  latencies.sort((x, y) => x - y);
  const prop = {
    edits: EDITS,
    medianMs: +quantile(latencies, 0.5).toFixed(2),
    p99Ms: +quantile(latencies, 0.99).toFixed(2),
    maxMs: +latencies.at(-1)!.toFixed(2),
    // The bound the propagation is held to (the suite checks only the order of events, never a time).
    under100Ms: latencies.filter((l) => l < 100).length,
  };
  console.log(`propagation: ${JSON.stringify(prop)}`);
  await Promise.all(instances.splice(0).map((i) => i.stop()));

  // ---------------------------------------------------------------- throughput
  const wrk = existsSync('/usr/bin/wrk') ? '/usr/bin/wrk' : undefined;
  // Asynchronous: the backend lives in this process and must keep answering while the load runs.
  const exec = (cmd: string, args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('exit', () => resolve(out));
    });
  const run = async (url: string): Promise<number> => {
    if (wrk) {
      const out = await exec(wrk, ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, url]);
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (!m || /Non-2xx|Socket errors/.test(out)) throw new Error(`wrk: ${out}`);
      return Number(m[1]);
    }
    const out = await exec(process.execPath, [
      'bench/lib/autocannon-run.mjs',
      JSON.stringify({ url, connections: CONNECTIONS, duration: SECONDS }),
    ]);
    return (JSON.parse(out) as { rps: number }).rps;
  };
  const rps: Record<'redis' | 'memory', number[]> = { redis: [], memory: [] };
  const one = members.slice(0, 1);
  for (let round = 0; round < ROUNDS; round++) {
    for (const store of round % 2 === 0 ? (['memory', 'redis'] as const) : (['redis', 'memory'] as const)) {
      const inst = await Instance.start({ redis: redis.url, prefix, instanceId: `t-${store}`, members: one, store });
      instances.push(inst);
      await run(`${inst.base}/app/warm`); // warm-up (JIT, sockets), not counted
      rps[store].push(await run(`${inst.base}/app/x`));
      await Promise.all(instances.splice(0).map((i) => i.stop()));
    }
  }
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const result = {
    tool: wrk ? 'wrk' : 'autocannon',
    connections: CONNECTIONS,
    seconds: SECONDS,
    redisRps: rps.redis.map((x) => Math.round(x)),
    memoryRps: rps.memory.map((x) => Math.round(x)),
    ratio: +(mean(rps.redis) / mean(rps.memory)).toFixed(3),
  };
  console.log(`throughput: ${JSON.stringify(result)}`);
} finally {
  await Promise.all(instances.map((i) => i.stop()));
  await stopAll(ups);
  await redis.kill();
}
