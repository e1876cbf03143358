import http from 'node:http';
import https from 'node:https';
import type { Worker } from '../core/worker.js';

/**
 * One keep-alive agent per worker, bounded by the worker's `max`. Idle sockets are closed after
 * `idleMs`, which must stay below the workers' own keep-alive timeout (Node servers: 5 s) to avoid
 * reusing a socket the worker is closing. Node's LIFO reuse keeps few sockets warm and lets the rest expire.
 */
export class AgentPool {
  readonly #agents = new Map<Worker, http.Agent>();
  readonly #idleMs: number;

  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  get(worker: Worker): http.Agent {
    let agent = this.#agents.get(worker);
    if (!agent) {
      agent = this.#create(worker);
      this.#agents.set(worker, agent);
    }
    return agent;
  }

  #create(worker: Worker): http.Agent {
    // Only what differs from Node's defaults (LIFO reuse, 256 free sockets): the agent spreads its
    // options into every request's options, so each extra key costs on every request.
    const base: http.AgentOptions = { keepAlive: true, maxSockets: worker.max, timeout: this.#idleMs };
    if (worker.max < 256) base.maxFreeSockets = worker.max;
    if (worker.url.protocol !== 'https:') return new http.Agent(base);
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

  /** Open sockets (in use and idle) per worker name, for leak checks and the manager. */
  socketCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [w, a] of this.#agents) {
      let n = 0;
      for (const list of Object.values(a.sockets)) n += list?.length ?? 0;
      for (const list of Object.values(a.freeSockets)) n += list?.length ?? 0;
      out.set(w.name, n);
    }
    return out;
  }

  destroy(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}
