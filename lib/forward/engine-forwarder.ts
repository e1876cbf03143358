import type { Duplex } from 'node:stream';
import type { Worker } from '../core/worker.js';
import type { ForwardOptions, ForwardRequest, Forwarder, UpgradeRequest } from './forwarder.js';
import { ProxyEngine } from './http-proxy.js';
import { AgentPool } from './agents.js';
import { Exchange } from './exchange.js';
import { outgoingHeaders } from './headers.js';
import { reverseHeaders } from './reverse.js';
import { preconnect } from './preconnect.js';
import { tunnel } from './tunnel.js';
import { AttemptTimer } from './timings.js';

/**
 * The Forwarder over the engine (http-proxy-3): keep-alive agents shared per connection profile,
 * the worker's headers built from the client's, one Exchange per attempt classifying its outcome.
 */
export class EngineForwarder implements Forwarder {
  readonly #options: ForwardOptions;
  readonly #engine = new ProxyEngine();
  readonly #agents: AgentPool;
  /** Client sockets of open WebSocket tunnels. */
  readonly #tunnels = new Set<Duplex>();

  constructor(options: ForwardOptions) {
    this.#options = options;
    this.#agents = new AgentPool(options.keepAliveIdleMs);
  }

  forward(worker: Worker, request: ForwardRequest): void {
    const options = this.#options;
    const { req, res, client } = request;
    const reverse = request.reverse;
    const exchange = new Exchange(
      req,
      res,
      client,
      worker.connectTimeoutMs,
      worker.timeoutMs,
      request,
      options.clock,
      reverse && ((raw) => reverseHeaders(raw, worker, reverse, req)),
    );
    const headers = outgoingHeaders(request.headers, client, {
      host: options.preserveHost ? undefined : worker.host,
      xForwarded: options.xForwarded,
      serverName: options.serverName,
    });
    this.#engine.send(
      request.method,
      client,
      res,
      exchange,
      worker,
      this.#agents.get(worker),
      request.path,
      headers,
      request.body(),
    );
  }

  /**
   * Connects to the worker before anything of the client's is handed over, so a refused or
   * timed-out connect can fail over (the engine's own WebSocket path ends the client socket on
   * any error).
   */
  upgrade(worker: Worker, request: UpgradeRequest): void {
    const timer = new AttemptTimer(this.#options.clock);
    void preconnect(worker).then((conn) => {
      if (conn instanceof Error) {
        request.settle({ kind: 'connect-failed', error: conn, ...timer.measures(false, 0, 0) });
        return;
      }
      timer.connected();
      request.opened();
      tunnel(this.#engine, this.#options, worker, request, conn, this.#tunnels, timer);
    });
  }

  socketCounts(): Map<string, number> {
    return this.#agents.socketCounts();
  }

  /** Its pool entry goes; idle sockets to its host:port expire with keepAliveIdle as any do. */
  forget(worker: Worker): void {
    this.#agents.forget(worker);
  }

  /** Ends every open WebSocket tunnel (they live until a side closes). */
  endTunnels(): void {
    for (const s of this.#tunnels) s.destroy();
  }

  close(): void {
    this.#agents.destroy();
  }
}
