import type { Balancer } from '../balancer/balancer.js';
import type { StateStore } from '../model/store.js';
import { toPersisted } from '../balancer/admin.js';

const queues = new WeakMap<Balancer, Promise<void>>();

/**
 * Saves the balancer's admin state after a change. Saves of one balancer run one at a time and
 * each takes the state when it starts, so the store always ends with the latest state.
 */
export function saveBalancer(store: StateStore, b: Balancer): Promise<void> {
  const previous = queues.get(b) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => store.save(b.name, toPersisted(b)));
  queues.set(b, next);
  return next;
}
