import type { Balancer } from '../balancer/balancer.js';
import type { Notices } from '../logger.js';
import { DiscoveryGroup } from './group.js';

/** The discovered member groups of one balancer, each on its own timer; stop() ends them all. */
export class BalancerDiscovery {
  readonly balancer: Balancer;
  readonly groups: readonly DiscoveryGroup[];
  /** Settles when every group's first lookup has ended (answered or failed). */
  readonly firstLookups: Promise<void>;

  constructor(balancer: Balancer, notices: Notices) {
    this.balancer = balancer;
    this.groups = balancer.discovery.map((spec) => new DiscoveryGroup(balancer, spec, notices));
    this.firstLookups = Promise.all(this.groups.map((g) => g.refresh())).then(() => undefined);
  }

  stop(): void {
    if (registry.get(this.balancer) === this) registry.delete(this.balancer);
    for (const g of this.groups) g.stop();
  }
}

const registry = new WeakMap<Balancer, BalancerDiscovery>();

/** Starts resolving a balancer's discovered members; undefined when it has none. */
export function startDiscovery(balancer: Balancer, notices: Notices): BalancerDiscovery | undefined {
  if (balancer.discovery.length === 0) return undefined;
  let d = registry.get(balancer);
  if (!d) registry.set(balancer, (d = new BalancerDiscovery(balancer, notices)));
  return d;
}

/** The balancer's discovery, if it has discovered members (the manager shows its groups). */
export function discoveryOf(balancer: Balancer): BalancerDiscovery | undefined {
  return registry.get(balancer);
}
