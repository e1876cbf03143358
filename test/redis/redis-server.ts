import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export const REDIS_BIN = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** Skip reason when redis-server is not installed (printed visibly by the suites), else undefined. */
export function redisSkip(): string | undefined {
  if (existsSync(REDIS_BIN)) return undefined;
  const msg = `SKIPPED: ${REDIS_BIN} is not installed (apt-get install redis-server); the Redis integration tests did not run`;
  console.log(`# ${msg}`);
  return msg;
}

/** A free loopback port: bind port 0, read it, close. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * A real redis-server on a chosen port, without persistence, stopped by its PID. start() again
 * after kill() brings it back on the same port (empty: nothing was saved).
 */
export class RedisServer {
  port = 0;
  #proc: ChildProcess | undefined;
  #log = '';

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  async start(port?: number): Promise<this> {
    this.port = port ?? this.port;
    if (this.port === 0) this.port = await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const proc = spawn(REDIS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    proc.stdout.on('data', (d: Buffer) => (this.#log += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (this.#log += d.toString()));
    const deadline = Date.now() + 5000;
    while (!/Ready to accept connections/i.test(this.#log)) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}): ${this.#log}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`redis-server did not start on ${this.port}: ${this.#log}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return this;
  }

  /** SIGKILL by PID (no goodbye to clients), and wait until it is gone. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    this.#log = '';
    if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid, 'SIGKILL');
    await gone;
  }
}
