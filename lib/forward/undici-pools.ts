import { Pool } from 'undici';
import type { Worker } from '../core/worker.js';

/**
 * One undici Pool per worker: keep-alive connections, at most the worker's `max` of them, one
 * request at a time on each (pipelining off), the worker's connect and response timeouts, and
 * its TLS settings. Idle connections close after `idleMs` (or sooner when the worker's
 * Keep-Alive header asks), below the workers' own keep-alive timeout. Workers at the same
 * host:port with the same settings share one Pool, as they share the default engine's
 * connections.
 */
export class UndiciPools {
  readonly #byWorker = new Map<Worker, Pool>();
  readonly #byProfile = new Map<string, Pool>();
  readonly #idleMs: number;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  get(worker: Worker): Pool {
    let pool = this.#byWorker.get(worker);
    if (pool === undefined) {
      const { url, max, timeoutMs, connectTimeoutMs, tls } = worker;
      const profile = JSON.stringify([url.origin, max, timeoutMs, connectTimeoutMs, tls ?? null]);
      pool = this.#byProfile.get(profile);
      if (pool === undefined) {
        pool = create(worker, this.#idleMs);
        this.#byProfile.set(profile, pool);
      }
      this.#byWorker.set(worker, pool);
    }
    return pool;
  }

  /** Open connections (in use and idle) of each used worker's Pool, by worker name. */
  socketCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [w, pool] of this.#byWorker) out.set(w.name, pool.stats.connected);
    return out;
  }

  /** Closes every connection now (requests still on them fail). */
  destroy(): void {
    for (const pool of this.#byProfile.values()) void pool.destroy().catch(() => undefined);
    this.#byProfile.clear();
    this.#byWorker.clear();
  }
}

function create(worker: Worker, idleMs: number): Pool {
  const tls = worker.tls ?? {};
  return new Pool(worker.url.origin, {
    connections: worker.max,
    pipelining: 1,
    keepAliveTimeout: idleMs,
    keepAliveMaxTimeout: idleMs,
    headersTimeout: worker.timeoutMs,
    bodyTimeout: worker.timeoutMs,
    connect: {
      timeout: worker.connectTimeoutMs,
      ...(worker.secure && {
        ...(tls.ca !== undefined && { ca: tls.ca }),
        ...(tls.cert !== undefined && { cert: tls.cert }),
        ...(tls.key !== undefined && { key: tls.key }),
        ...(tls.servername !== undefined && { servername: tls.servername }),
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
      }),
    },
  });
}
