import http from 'node:http';
import https from 'node:https';
import type { Worker } from '../core/worker.js';

/**
 * Keep-alive agents shared by workers with the same connection profile (protocol, TLS settings,
 * `max`): Node pools sockets per host:port inside an agent, so each worker still gets its own
 * connections (workers at the same host:port share them, as connections to the same server), while
 * one agent serves many workers. An agent per worker cost ≈ 3 KiB and more work per request.
 * Idle sockets are closed after `idleMs`, which must stay below the workers' own keep-alive timeout
 * (Node servers: 5 s) to avoid reusing a socket the worker is closing. Node's LIFO reuse keeps few
 * sockets warm and lets the rest expire.
 */
export class AgentPool {
  readonly #byWorker = new Map<Worker, http.Agent>();
  readonly #byProfile = new Map<string, http.Agent>();
  readonly #idleMs: number;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  get(worker: Worker): http.Agent {
    let agent = this.#byWorker.get(worker);
    if (!agent) {
      const profile = JSON.stringify([worker.secure, worker.max, worker.tls ?? null]);
      agent = this.#byProfile.get(profile);
      if (!agent) {
        agent = this.#create(worker);
        this.#byProfile.set(profile, agent);
      }
      this.#byWorker.set(worker, agent);
    }
    return agent;
  }

  #create(worker: Worker): http.Agent {
    // Only what differs from Node's defaults (LIFO reuse, 256 free sockets): the agent spreads its
    // options into every request's options, so each extra key costs on every request. `max` is
    // per host:port, like Apache's per-worker connection pool.
    const base: http.AgentOptions = { keepAlive: true, maxSockets: worker.max, timeout: this.#idleMs };
    if (worker.max < 256) base.maxFreeSockets = worker.max;
    if (!worker.secure) return new http.Agent(base);
    const tls = worker.tls ?? {};
    return new https.Agent({
      ...base,
      ...(tls.ca !== undefined && { ca: tls.ca }),
      ...(tls.cert !== undefined && { cert: tls.cert }),
      ...(tls.key !== undefined && { key: tls.key }),
      ...(tls.servername !== undefined && { servername: tls.servername }),
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
    });
  }

  /**
   * Open sockets (in use and idle) to each used worker's host:port, by worker name, for leak checks.
   * Workers at the same host:port share their connections, so they show the same count.
   */
  socketCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [w, a] of this.#byWorker) {
      // Node names a pool "host:port:…" (then local address, family, TLS settings).
      const prefix = `${w.address}:${w.port}:`;
      let n = 0;
      for (const [name, list] of Object.entries(a.sockets)) if (name.startsWith(prefix)) n += list?.length ?? 0;
      for (const [name, list] of Object.entries(a.freeSockets)) if (name.startsWith(prefix)) n += list?.length ?? 0;
      out.set(w.name, n);
    }
    return out;
  }

  /** A worker that left its balancer: its agent stays for the others of its profile. */
  forget(worker: Worker): void {
    this.#byWorker.delete(worker);
  }

  destroy(): void {
    for (const a of this.#byProfile.values()) a.destroy();
    this.#byProfile.clear();
    this.#byWorker.clear();
  }
}
