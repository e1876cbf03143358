import { Client } from 'undici';
import type { Worker } from '../core/worker.js';

function ignore(): void {
  // Reported elsewhere.
}

/** One keep-alive connection to a worker: an undici Client, which carries one request at a time (no pipelining). */
export class Connection {
  readonly client: Client;
  /** Its socket is connected. */
  open = false;

  constructor(client: Client, onClose: (c: Connection) => void) {
    this.client = client;
    client.on('connect', () => {
      this.open = true;
    });
    client.on('disconnect', () => {
      this.open = false;
      onClose(this);
    });
    // Reported to the request that needed the connection; the event itself needs no listener but this.
    client.on('connectionError', ignore);
  }
}

/**
 * The connections to one worker (undici's Pool, kept here so a connection can be dropped with
 * its request): reused newest first, so few stay warm and the rest expire. A connection whose
 * request did not complete is destroyed, never reused; one the worker or the idle timeout closes
 * leaves the pool. The balancer's `max` bounds the requests in flight, so the connections too.
 */
export class WorkerPool {
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #options: Client.Options;
  readonly #origin: string;
  #closed = false;

  constructor(origin: string, options: Client.Options) {
    this.#origin = origin;
    this.#options = options;
  }

  /** A connection for one request: the newest idle one, else a new one. */
  acquire(): Connection {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    const conn = new Connection(new Client(this.#origin, this.#options), (c) => {
      this.#idleClosed(c);
    });
    this.#all.add(conn);
    return conn;
  }

  /** The request on `conn` ended: keep the connection for the next one, or drop it. */
  release(conn: Connection, reusable: boolean): void {
    if (reusable && conn.open && !this.#closed) this.#idle.push(conn);
    else this.#drop(conn);
  }

  /** Open connections, in use and idle. */
  get connected(): number {
    let n = 0;
    for (const c of this.#all) if (c.open) n++;
    return n;
  }

  destroy(): void {
    this.#closed = true;
    for (const c of this.#all) this.#drop(c);
  }

  /** An idle connection closed (by the worker, or after the idle timeout): it leaves the pool. */
  #idleClosed(conn: Connection): void {
    const i = this.#idle.indexOf(conn);
    if (i === -1) return;
    this.#idle.splice(i, 1);
    this.#drop(conn);
  }

  #drop(conn: Connection): void {
    this.#all.delete(conn);
    void conn.client.destroy().catch(ignore);
  }
}

/**
 * One WorkerPool per worker: keep-alive connections, one request at a time on each (pipelining
 * off), the worker's connect and response timeouts, and its TLS settings. Idle connections close
 * after `idleMs` (or sooner when the worker's Keep-Alive header asks), below the workers' own
 * keep-alive timeout. Workers at the same host:port with the same settings share one pool, as they
 * share the default engine's connections.
 */
export class UndiciPools {
  readonly #byWorker = new Map<Worker, WorkerPool>();
  readonly #byProfile = new Map<string, WorkerPool>();
  readonly #idleMs: number;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  get(worker: Worker): WorkerPool {
    let pool = this.#byWorker.get(worker);
    if (pool === undefined) {
      const { url, timeoutMs, connectTimeoutMs, tls } = worker;
      const profile = JSON.stringify([url.origin, timeoutMs, connectTimeoutMs, tls ?? null]);
      pool = this.#byProfile.get(profile);
      if (pool === undefined) {
        pool = new WorkerPool(url.origin, clientOptions(worker, this.#idleMs));
        this.#byProfile.set(profile, pool);
      }
      this.#byWorker.set(worker, pool);
    }
    return pool;
  }

  /** Open connections (in use and idle) of each used worker's pool, by worker name. */
  socketCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [w, pool] of this.#byWorker) out.set(w.name, pool.connected);
    return out;
  }

  /** Closes every connection now (requests still on them fail). */
  destroy(): void {
    for (const pool of this.#byProfile.values()) pool.destroy();
    this.#byProfile.clear();
    this.#byWorker.clear();
  }
}

function clientOptions(worker: Worker, idleMs: number): Client.Options {
  const tls = worker.tls ?? {};
  return {
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
  };
}
