import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemberOptions } from '../../lib/index.js';
import { request, type Reply } from '../support/http.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/instance.ts', import.meta.url));

export interface InstanceConfig {
  /** A URL, or options as JSON (Sentinel `{ sentinels, name }`, `{ cluster: [nodes] }`). */
  redis?: string | Record<string, unknown>;
  saveWaitMs?: number;
  prefix?: string;
  instanceId?: string;
  strict?: boolean;
  store?: 'redis' | 'memory';
  members: MemberOptions[];
  events?: boolean;
  resyncMs?: number;
  outlier?: boolean;
  growth?: number;
}

export interface WorkerState {
  name: string;
  status: number;
  inError: boolean;
  errorTime: number;
  ejectionMs: number | null;
  lbfactor: number;
  elected: number;
}

export interface InstanceState {
  workers: WorkerState[];
  lbmethod: string;
  warnings: string[];
  connected: boolean | null;
  target: string | null;
}

export interface StateEvent {
  type: 'statechange';
  worker: string;
  to: string;
  at: number;
}

/** A balancer instance in a child process (test/redis/fixtures/instance.ts), stopped by PID. */
export class Instance {
  readonly config: InstanceConfig;
  readonly proc: ChildProcess;
  port = 0;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  readonly #listeners = new Set<(e: StateEvent) => void>();
  stderr = '';

  private constructor(config: InstanceConfig, proc: ChildProcess) {
    this.config = config;
    this.proc = proc;
    proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    proc.on('message', (m: { id?: number; result?: unknown; error?: string; type?: string }) => {
      if (m.type === 'statechange') {
        for (const l of this.#listeners) l(m as StateEvent);
        return;
      }
      if (m.id === undefined) return;
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result);
    });
    proc.on('exit', () => {
      for (const p of this.#pending.values()) p.reject(new Error('instance exited'));
      this.#pending.clear();
    });
  }

  /** Forks the fixture and waits until it listens (or fails to start: rejects with its message). */
  static async start(config: InstanceConfig): Promise<Instance> {
    const proc = fork(FIXTURE, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, EPB_INSTANCE: JSON.stringify(config), DEBUG: '' },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    const inst = new Instance(config, proc);
    const first = await new Promise<{ type: string; port?: number; error?: string }>((resolve, reject) => {
      const onMsg = (m: { type?: string; port?: number; error?: string }): void => {
        if (m.type === 'ready' || m.type === 'failed') {
          proc.off('message', onMsg);
          resolve(m as { type: string });
        }
      };
      proc.on('message', onMsg);
      proc.once('exit', (code) => reject(new Error(`instance exited (${code}) before it was ready: ${inst.stderr}`)));
    });
    if (first.type === 'failed') {
      await inst.kill();
      throw new Error(first.error);
    }
    inst.port = first.port!;
    return inst;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  onState(listener: (e: StateEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  call<T = unknown>(cmd: string, args: { worker?: string; ms?: number } = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, ...args });
    });
  }

  state(): Promise<InstanceState> {
    return this.call<InstanceState>('state');
  }

  /** Closes cleanly if it answers within 3 s, else SIGKILL by PID; always waits for the exit. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    const timer = setTimeout(() => void this.kill(), 3000);
    this.call('close').catch(() => undefined);
    await exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    process.kill(this.pid, 'SIGKILL');
    await exited;
  }
}

/** Polls `check` every 5 ms until it returns true; resolves with the time it took, rejects after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The manager's JSON API on one instance (same-origin, with the balancer's nonce). */
export async function managerPatch(inst: Instance, worker: string, body: unknown, timeoutMs?: number): Promise<Reply> {
  const info = await request(inst.base, '/balancer-manager/api/balancers/app');
  const nonce = (JSON.parse(info.body) as { balancer: { nonce: string } }).balancer.nonce;
  return request(inst.base, `/balancer-manager/api/balancers/app/workers/${encodeURIComponent(worker)}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', origin: inst.base, 'x-balancer-nonce': nonce },
    body: JSON.stringify(body),
    timeoutMs,
  });
}

/** Requests in a loop on each instance given (one loop per entry) until stop(); counts every outcome. */
export function trafficLoops(insts: Instance[]): { ok: () => number; failures: string[]; stop: () => Promise<void> } {
  let ok = 0;
  let running = true;
  const failures: string[] = [];
  const loop = async (inst: Instance): Promise<void> => {
    while (running) {
      try {
        const r = await request(inst.base, '/app/load', { timeoutMs: 5000 });
        if (r.status === 200) ok++;
        else failures.push(`${inst.config.instanceId}: ${r.status} ${r.body.slice(0, 80)}`);
      } catch (err) {
        failures.push(`${inst.config.instanceId}: ${(err as Error).message}`);
      }
    }
  };
  const loops = insts.map((inst) => loop(inst));
  return {
    ok: () => ok,
    failures,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
