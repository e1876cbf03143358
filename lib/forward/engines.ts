import type { EngineName } from '../config/engine.js';
import type { ForwardOptions, Forwarder } from './forwarder.js';
import type { Worker } from '../core/worker.js';
import { EngineForwarder } from './engine-forwarder.js';
import { UndiciForwarder } from './undici-forwarder.js';

/**
 * The forwarders of one middleware, by engine: the default one always (it also carries every
 * WebSocket upgrade), undici's once a balancer names it.
 */
export class Engines {
  readonly #options: ForwardOptions;
  readonly #default: EngineForwarder;
  #undici: UndiciForwarder | undefined;

  constructor(options: ForwardOptions) {
    this.#options = options;
    this.#default = new EngineForwarder(options);
  }

  of(engine: EngineName): Forwarder {
    if (engine === 'http-proxy') return this.#default;
    return (this.#undici ??= new UndiciForwarder(this.#options, this.#default));
  }

  /** Open sockets to each used worker, by worker name, over both engines. */
  socketCounts(): Map<string, number> {
    const out = this.#default.socketCounts();
    for (const [name, n] of this.#undici?.socketCounts() ?? []) out.set(name, (out.get(name) ?? 0) + n);
    return out;
  }

  /** A worker gone for good (DNS discovery removed it): its pool bookkeeping goes too. */
  forget(worker: Worker): void {
    this.#default.forget(worker);
  }

  endTunnels(): void {
    this.#default.endTunnels();
  }

  close(): void {
    this.#default.close();
    this.#undici?.close();
  }
}
