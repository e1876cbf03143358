import type { Worker } from '../core/worker.js';
import type { ForwardOptions, ForwardRequest, Forwarder, UpgradeRequest } from './forwarder.js';
import { outgoingHeaders } from './headers.js';
import { workerPath } from './worker-path.js';
import { AttemptTimer } from './timings.js';
import { UndiciPools } from './undici-pools.js';
import { undiciRequest } from './undici-request.js';
import { UndiciExchange } from './undici-exchange.js';

/**
 * The Forwarder over undici: a keep-alive Pool per worker, the worker's headers built from the
 * client's by the same rules as the default engine, one UndiciExchange per attempt classifying its
 * outcome. WebSocket upgrades go to `upgrades` (the default engine), which also owns the tunnels.
 */
export class UndiciForwarder implements Forwarder {
  readonly #options: ForwardOptions;
  readonly #pools: UndiciPools;
  readonly #upgrades: Forwarder;

  constructor(options: ForwardOptions, upgrades: Forwarder) {
    this.#options = options;
    this.#pools = new UndiciPools(options.keepAliveIdleMs);
    this.#upgrades = upgrades;
  }

  forward(worker: Worker, request: ForwardRequest): void {
    const options = this.#options;
    const timer = new AttemptTimer(options.clock);
    const headers = outgoingHeaders(request.headers, request.client, {
      host: options.preserveHost ? undefined : worker.host,
      xForwarded: options.xForwarded,
      serverName: options.serverName,
    });
    const sent = undiciRequest(request.method, workerPath(worker.basePath, request.path), headers, request.body());
    new UndiciExchange(worker, request, sent, timer, worker.timeoutMs).start(this.#pools.get(worker), sent.options);
  }

  upgrade(worker: Worker, request: UpgradeRequest): void {
    this.#upgrades.upgrade(worker, request);
  }

  socketCounts(): Map<string, number> {
    return this.#pools.socketCounts();
  }

  /** The tunnels belong to the default engine. */
  endTunnels(): void {
    // Nothing of its own to end.
  }

  close(): void {
    this.#pools.destroy();
  }
}
