import type { Balancer } from '../balancer/balancer.js';

/** Per balancer: worker name → times it entered error state (counted from its "statechange" events). */
const counts = new WeakMap<Balancer, Map<string, number>>();

/** Starts counting (once per balancer; managerRouter calls it, so counts start with the router). */
export function trackErrors(b: Balancer): void {
  if (counts.has(b)) return;
  const byWorker = new Map<string, number>();
  counts.set(b, byWorker);
  b.on('statechange', (e) => {
    if (e.to.includes('E') && !e.from.includes('E')) byWorker.set(e.worker, (byWorker.get(e.worker) ?? 0) + 1);
  });
}

export function errorCount(b: Balancer, worker: string): number {
  return counts.get(b)?.get(worker) ?? 0;
}
