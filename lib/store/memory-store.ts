import type { PersistedBalancer, StateStore } from '../model/store.js';

/** Keeps admin state for the life of the process (Apache without BalancerPersist). */
export class MemoryStore implements StateStore {
  readonly #states = new Map<string, PersistedBalancer>();

  load(balancer: string): Promise<PersistedBalancer | undefined> {
    const s = this.#states.get(balancer);
    return Promise.resolve(s ? structuredClone(s) : undefined);
  }

  save(balancer: string, state: PersistedBalancer): Promise<void> {
    this.#states.set(balancer, structuredClone(state));
    return Promise.resolve();
  }
}
