// Real highly available Redis set-ups on loopback for the tests: a Sentinel group (master, replica,
// three sentinels) and a Redis Cluster made by `redis-cli --cluster create`. Every process is a
// redis-server started here in a temporary directory and stopped by its PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { REDIS_BIN, freePort } from './redis-server.js';
import { until } from './instances.js';

export const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';

/** One redis-server (or sentinel) process, started with a config file in `dir`, stopped by PID. */
export class RedisProc {
  readonly port: number;
  readonly #dir: string;
  readonly #lines: string[];
  #proc: ChildProcess | undefined;
  log = '';

  constructor(dir: string, port: number, lines: string[]) {
    this.#dir = dir;
    this.port = port;
    this.#lines = lines;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get running(): boolean {
    const p = this.#proc;
    return p?.exitCode === null && p.signalCode === null;
  }

  async start(ready = /Ready to accept connections/i, sentinel = false): Promise<this> {
    const conf = path.join(this.#dir, `redis-${this.port}.conf`);
    const base = [`port ${this.port}`, 'bind 127.0.0.1', `dir ${this.#dir}`, 'save ""', 'appendonly no'];
    writeFileSync(conf, [...base, ...this.#lines].join('\n') + '\n');
    const proc = spawn(REDIS_BIN, sentinel ? [conf, '--sentinel'] : [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    proc.stdout.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (this.log += d.toString()));
    await until(
      () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}): ${this.log}`);
        return ready.test(this.log);
      },
      10_000,
      `redis-server on ${this.port}`,
    );
    return this;
  }

  /** SIGKILL by PID and wait for the exit. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    if (!proc?.pid || !this.running) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid, 'SIGKILL');
    await gone;
  }
}

export function tempDir(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `epb-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A short-lived admin connection: runs `fn`, always disconnects. */
export async function withRedis<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function info(port: number, section: string): Promise<string> {
  return withRedis(port, (r) => r.info(section)).catch(() => '');
}

/** A master, its replica and three sentinels (group `name`, quorum 2, a master is down after 400 ms). */
export class SentinelSet {
  readonly name = 'mymaster';
  master!: RedisProc;
  replica!: RedisProc;
  readonly sentinels: RedisProc[] = [];
  readonly #tmp = tempDir('sentinel');
  /** Every process started, so stop() reaches them even if start() failed half-way. */
  readonly #started: RedisProc[] = [];

  async #run(p: RedisProc, ready?: RegExp, sentinel = false): Promise<RedisProc> {
    this.#started.push(p);
    return p.start(ready, sentinel);
  }

  async start(): Promise<this> {
    const { dir } = this.#tmp;
    this.master = await this.#run(new RedisProc(dir, await freePort(), []));
    this.replica = await this.#run(new RedisProc(dir, await freePort(), [`replicaof 127.0.0.1 ${this.master.port}`]));
    await until(
      async () => (await info(this.replica.port, 'replication')).includes('master_link_status:up'),
      10_000,
      'sync',
    );
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const lines = [
        `sentinel monitor ${this.name} 127.0.0.1 ${this.master.port} 2`,
        `sentinel down-after-milliseconds ${this.name} 400`,
        `sentinel failover-timeout ${this.name} 4000`,
      ];
      this.sentinels.push(await this.#run(new RedisProc(dir, port, lines), /\+monitor master/, true));
    }
    // Failover needs every sentinel to know the replica and the two other sentinels.
    await until(
      async () => {
        for (const s of this.sentinels) {
          const ok = await withRedis(s.port, async (r) => {
            const replicas = (await r.call('SENTINEL', 'REPLICAS', this.name)) as unknown[];
            const peers = (await r.call('SENTINEL', 'SENTINELS', this.name)) as unknown[];
            return replicas.length === 1 && peers.length === 2;
          }).catch(() => false);
          if (!ok) return false;
        }
        return true;
      },
      30_000,
      'sentinels to discover each other',
    );
    return this;
  }

  /** The ioredis Sentinel options of this group. */
  get options(): { sentinels: { host: string; port: number }[]; name: string } {
    return { sentinels: this.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: this.name };
  }

  /** The master's port as the sentinels name it now. */
  async masterPort(): Promise<number | undefined> {
    return withRedis(this.sentinels[0]!.port, async (r) => {
      const addr = (await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as string[] | null;
      return addr ? Number(addr[1]) : undefined;
    }).catch(() => undefined);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#started.map((p) => p.kill()));
    this.#tmp.remove();
  }
}

/** Three masters and three replicas (`--cluster-replicas 1`), node timeout 1 s. */
export class RedisClusterSet {
  readonly nodes: RedisProc[] = [];
  readonly #tmp = tempDir('cluster');

  async start(count = 6): Promise<this> {
    const { dir } = this.#tmp;
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const lines = [
        'cluster-enabled yes',
        `cluster-config-file nodes-${port}.conf`,
        'cluster-node-timeout 1000',
        'cluster-replica-validity-factor 0',
      ];
      const node = new RedisProc(dir, port, lines);
      this.nodes.push(node);
      await node.start();
    }
    const replicas = count >= 6 ? '1' : '0';
    const r = spawnSync(
      REDIS_CLI,
      [
        '--cluster',
        'create',
        ...this.nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        replicas,
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (r.status !== 0) throw new Error(`redis-cli --cluster create failed: ${r.stdout}${r.stderr}`);
    await until(async () => this.#allOk(), 30_000, 'cluster_state:ok on every node');
    return this;
  }

  async #allOk(): Promise<boolean> {
    for (const n of this.nodes) {
      if (!n.running) continue;
      if (!(await withRedis(n.port, (r) => r.cluster('INFO')).catch(() => '')).includes('cluster_state:ok'))
        return false;
    }
    return true;
  }

  /** The port of the master serving `key` now (asked of a running node). */
  async masterOf(key: string): Promise<number> {
    const n = this.nodes.find((x) => x.running)!;
    return withRedis(n.port, async (r) => {
      const slot = await r.cluster('KEYSLOT', key);
      const slots = await r.cluster('SLOTS');
      const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
      if (!range?.[2]) throw new Error(`no node serves slot ${slot}`);
      return range[2][1];
    });
  }

  node(port: number): RedisProc {
    return this.nodes.find((n) => n.port === port)!;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    this.#tmp.remove();
  }
}
