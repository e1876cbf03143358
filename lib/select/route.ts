import type { Worker } from '../core/worker.js';
import type { Selector } from './selector.js';

/**
 * Route → worker (Apache's find_route_worker): regular workers first, then hot standbys; exact,
 * case-sensitive match. A usable match wins (draining workers keep their sticky traffic); an
 * unusable one gets its retry check; still unusable, its `redirect` route is followed, at most as
 * many hops as there are workers, so redirect loops end. Only the route's owners are visited
 * (the selector's route index), so the cost does not grow with the pool.
 */
export function findRouteWorker(
  sel: Selector,
  route: string,
  avoid: ReadonlySet<Worker> | undefined,
  depth = 0,
): Worker | undefined {
  const owners = sel.routeOwners(route);
  return findAmong(sel, owners, false, avoid, depth) ?? findAmong(sel, owners, true, avoid, depth);
}

/** One of Apache's two passes over the owners: the regular workers, or the hot standbys. */
function findAmong(
  sel: Selector,
  owners: readonly Worker[],
  standbys: boolean,
  avoid: ReadonlySet<Worker> | undefined,
  depth: number,
): Worker | undefined {
  for (const w of owners) {
    if (w.standby !== standbys) continue;
    if (!w.isUsable()) sel.retryWorker(w);
    if (w.isUsable() && !avoid?.has(w)) return w;
    if (w.redirect !== '' && depth < sel.workers.length) {
      const next = findRouteWorker(sel, w.redirect, avoid, depth + 1);
      if (next) return next;
    }
  }
  return undefined;
}

/** True if some worker, in any state, owns `route` (nofailover answers 503 only then). */
export function routeHasOwner(sel: Selector, route: string): boolean {
  return sel.routeOwners(route).length > 0;
}
