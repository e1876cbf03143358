// What RedisStore costs Redis as the fleet grows (docs/scale-out.md, "Scale model"):
// `npm run bench:redis-scale` (node --import tsx bench/redis-scale.ts).
//
// For each fleet size (INSTANCES, default 2,4,8,16) and balancer size (WORKERS, default 10,100,1000)
// it starts a fresh redis-server on loopback and that many balancer instances, each with its own
// RedisStore (its own two connections, instance id and timers, as separate processes would have;
// they share this process to spare the CPU), then measures from Redis' own INFO counters:
//   idle     commands/s, bytes/s in and out, over IDLE_S seconds with no traffic
//   traffic  the same while TRAFFIC_CONC request loops go through the instances in turn
//   memory   used_memory above the empty server, total and per instance
//   restart  Redis killed and restarted empty: time until every instance is connected again and has
//            re-seeded it, and the commands and bytes that took (the resync storm)
//   edits    EDITS manager edits on the first instance, each timed until the last one applies it
// The manager is not viewed during the idle and traffic windows (the per-instance counters are then
// written, not read: see the model).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync, mkdirSync } from 'node:fs';
import express from 'express';
import { Redis } from 'ioredis';
import { balancer, managerRouter, RedisStore } from '../lib/index.js';
import type { Balancer } from '../lib/index.js';
import { RedisServer, redisSkip } from '../test/redis/redis-server.js';
import { request } from '../test/support/http.js';
import { startUpstreams, stopAll } from '../test/support/upstreams.js';

const list = (v: string | undefined, d: number[]): number[] => (v ? v.split(',').map(Number) : d);
const INSTANCES = list(process.env.INSTANCES, [2, 4, 8, 16]);
const WORKERS = list(process.env.WORKERS, [10, 100, 1000]);
const IDLE_S = Number(process.env.IDLE_S ?? 10);
const TRAFFIC_S = Number(process.env.TRAFFIC_S ?? 10);
const TRAFFIC_CONC = Number(process.env.TRAFFIC_CONC ?? 8);
const EDITS = Number(process.env.EDITS ?? 100);

if (redisSkip()) process.exit(0);

interface Stats {
  cmds: number;
  inBytes: number;
  outBytes: number;
  mem: number;
}

async function stats(r: Redis): Promise<Stats> {
  const s = await r.info('stats');
  const m = await r.info('memory');
  const num = (text: string, k: string): number => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    cmds: num(s, 'total_commands_processed'),
    inBytes: num(s, 'total_net_input_bytes'),
    outBytes: num(s, 'total_net_output_bytes'),
    mem: num(m, 'used_memory'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const q = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

interface Row {
  instances: number;
  workers: number;
  idle: ReturnType<typeof rates>;
  traffic: ReturnType<typeof rates> & { reqPerS: number };
  memory: { totalKB: number; perInstanceKB: number };
  restart: { reseedMs: number; cmds: number; inKB: number; outKB: number };
  editMs: { median: number; p99: number };
}

interface Inst {
  store: RedisStore;
  b: Balancer;
  server: http.Server;
  base: string;
  close: () => Promise<void>;
}

async function startInstance(redisUrl: string, i: number, members: { url: string }[]): Promise<Inst> {
  const store = new RedisStore({ redis: redisUrl, prefix: 'scale:', instanceId: `i${i}`, warn: () => undefined });
  const lb = balancer({
    store,
    logger: { warn: () => undefined, error: () => undefined, info: () => undefined },
    balancers: [{ name: 'app', mount: '/app', members }],
  });
  await lb.ready;
  const app = express();
  app.use('/balancer-manager', managerRouter(lb));
  app.use(lb);
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    store,
    b: lb.get('app')!,
    server,
    base,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await lb.close(200);
      await store.close();
    },
  };
}

function rates(a: Stats, b: Stats, seconds: number): { cmdsPerS: number; inKBs: number; outKBs: number } {
  return {
    cmdsPerS: Math.round((b.cmds - a.cmds) / seconds),
    inKBs: Math.round((b.inBytes - a.inBytes) / seconds / 102.4) / 10,
    outKBs: Math.round((b.outBytes - a.outBytes) / seconds / 102.4) / 10,
  };
}

async function measure(n: number, w: number, upUrl: string): Promise<Row> {
  const redis = await new RedisServer().start();
  const admin = new Redis({ port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  const empty = await stats(admin);
  const members = Array.from({ length: w }, (_, i) => ({ url: `${upUrl}/w${i}` }));
  const insts: Inst[] = [];
  try {
    for (let i = 0; i < n; i++) insts.push(await startInstance(redis.url, i, members));
    await sleep(2000);

    const i0 = await stats(admin);
    await sleep(IDLE_S * 1000);
    const i1 = await stats(admin);

    let running = true;
    let requests = 0;
    const loops = Array.from({ length: TRAFFIC_CONC }, async (_, k) => {
      for (let j = k; running; j++) {
        const r = await request(insts[j % n]!.base, '/app/x').catch(() => undefined);
        if (r?.status === 200) requests++;
      }
    });
    const t0 = await stats(admin);
    await sleep(TRAFFIC_S * 1000);
    const t1 = await stats(admin);
    running = false;
    await Promise.all(loops);

    // Edits: manager PATCH on the first instance until the last one applies it.
    const first = insts[0]!;
    const last = insts[n - 1]!;
    const target = members[0]!.url;
    const info = await request(first.base, '/balancer-manager/api/balancers/app');
    const nonce = (JSON.parse(info.body) as { balancer: { nonce: string } }).balancer.nonce;
    const lat: number[] = [];
    for (let e = 0; e < EDITS; e++) {
      const disable = e % 2 === 0;
      const seen = new Promise<number>((resolve) => {
        const on = (ev: { worker: string; to: string }): void => {
          if (ev.worker === target && ev.to.includes('D') === disable) {
            last.b.off('statechange', on);
            resolve(performance.now());
          }
        };
        last.b.on('statechange', on);
      });
      const sent = performance.now();
      await request(first.base, `/balancer-manager/api/balancers/app/workers/${encodeURIComponent(target)}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', origin: first.base, 'x-balancer-nonce': nonce },
        body: JSON.stringify({ flags: { D: disable } }),
      });
      lat.push((await seen) - sent);
    }
    lat.sort((a, b) => a - b);
    const mem = await stats(admin);

    // Restart storm: Redis comes back empty; every instance reconnects and re-seeds it.
    admin.disconnect();
    await redis.kill();
    await until(() => insts.every((x) => !x.store.connected));
    const port = redis.port;
    await redis.start(port);
    const startedAt = performance.now();
    await until(() => insts.every((x) => x.store.connected));
    const reseedMs = performance.now() - startedAt;
    // A restarted server counts from zero: everything it has done is the re-seed (and this one INFO).
    const r0: Stats = { cmds: 0, inBytes: 0, outBytes: 0, mem: 0 };
    const after = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await after.connect();
    const r1 = await stats(after);
    after.disconnect();

    return {
      instances: n,
      workers: w,
      idle: rates(i0, i1, IDLE_S),
      traffic: { ...rates(t0, t1, TRAFFIC_S), reqPerS: Math.round(requests / TRAFFIC_S) },
      memory: {
        totalKB: Math.round((mem.mem - empty.mem) / 1024),
        perInstanceKB: Math.round((mem.mem - empty.mem) / 1024 / n),
      },
      restart: {
        reseedMs: Math.round(reseedMs),
        cmds: r1.cmds - r0.cmds,
        inKB: Math.round((r1.inBytes - r0.inBytes) / 1024),
        outKB: Math.round((r1.outBytes - r0.outBytes) / 1024),
      },
      editMs: { median: +q(lat, 0.5).toFixed(2), p99: +q(lat, 0.99).toFixed(2) },
    };
  } finally {
    for (const x of insts) await x.close().catch(() => undefined);
    admin.disconnect();
    await redis.kill();
  }
}

async function until(check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

const ups = await startUpstreams('a');
const rows: Row[] = [];
try {
  for (const w of WORKERS) {
    for (const n of INSTANCES) {
      const row = await measure(n, w, ups[0]!.url);
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
} finally {
  await stopAll(ups);
}

const md = [
  '| instances × workers | idle cmd/s | idle in / out KB/s | traffic cmd/s | traffic in / out KB/s | req/s | Redis memory (per instance) | restart: re-seed ms, cmds, in / out KB | edit median / p99 ms |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.instances} × ${r.workers} | ${r.idle.cmdsPerS} | ${r.idle.inKBs} / ${r.idle.outKBs} | ${r.traffic.cmdsPerS} | ${r.traffic.inKBs} / ${r.traffic.outKBs} | ${r.traffic.reqPerS} | ${r.memory.totalKB} KB (${r.memory.perInstanceKB}) | ${r.restart.reseedMs}, ${r.restart.cmds}, ${r.restart.inKB} / ${r.restart.outKB} | ${r.editMs.median} / ${r.editMs.p99} |`,
  ),
].join('\n');
console.log(md);
mkdirSync('bench/results', { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
writeFileSync(
  `bench/results/${stamp}Z-redis-scale.md`,
  `${md}\n\n\`\`\`json\n${JSON.stringify(rows, null, 1)}\n\`\`\`\n`,
);
