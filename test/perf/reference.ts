/**
 * Reference oracles for the differential tests: the selection path as it was before the pick-cost
 * work (issue #7), copied verbatim in behaviour: the O(n) election walk on every selection, Apache's
 * O(n) scans for the three built-in schedulers, the route lookup over every worker, the plain
 * sticky accounting and force recovery.
 * Nothing here caches anything; test/perf/differential.test.ts runs it side by side with the
 * shipped code and requires identical picks and identical counters after every event.
 */
import type { Balancer } from '../../lib/balancer/balancer.js';
import type { Worker } from '../../lib/core/worker.js';
import type { RequestContext } from '../../lib/model/context.js';
import type { StickyHit } from '../../lib/model/sticky.js';
import type { Selection } from '../../lib/balancer/select.js';
import { defineScheduler, type Candidate } from '../../lib/schedulers/types.js';
import { refreshRamp } from '../../lib/core/ramp.js';
import { IN_ERROR } from '../../lib/model/status.js';

export const refByrequests = defineScheduler(() => ({
  pick(candidates) {
    let best = candidates[0]!;
    let total = 0;
    for (const w of candidates) {
      w.lbstatus += w.weight;
      total += w.weight;
      if (w.lbstatus > best.lbstatus) best = w;
    }
    best.lbstatus -= total;
    return best;
  },
  reset(workers) {
    for (const w of workers) w.lbstatus = 0;
  },
}));

function load(w: Candidate): number {
  return w.weight === w.lbfactor ? w.busy : (w.busy * w.lbfactor) / w.weight;
}

export const refBybusyness = defineScheduler(() => ({
  pick(candidates) {
    let best = candidates[0]!;
    let total = 0;
    for (const w of candidates) {
      w.lbstatus += w.weight;
      total += w.weight;
      const l = load(w);
      const lb = load(best);
      if (l < lb || (l === lb && w.lbstatus > best.lbstatus)) best = w;
    }
    best.lbstatus -= total;
    return best;
  },
  reset(workers) {
    for (const w of workers) w.lbstatus = 0;
  },
}));

function plainTraffic(w: Candidate): number {
  return Math.floor(w.transferred / w.lbfactor) + Math.floor(w.read / w.lbfactor);
}

interface Anchor {
  ramp: object | undefined;
  weight: number;
  bytes: number;
  offset: number;
}

export const refBytraffic = defineScheduler(() => {
  let anchors = new WeakMap<Candidate, Anchor>();
  const traffic = (w: Candidate): number => {
    const a = anchors.get(w);
    return a ? a.offset + (w.transferred + w.read - a.bytes) / a.weight : plainTraffic(w);
  };
  const anchor = (w: Candidate, offset: number): void => {
    anchors.set(w, { ramp: w.ramp, weight: w.weight, bytes: w.transferred + w.read, offset });
  };
  const track = (w: Candidate, candidates: readonly Candidate[]): void => {
    const a = anchors.get(w);
    if (w.ramp && a?.ramp !== w.ramp) {
      let level = Infinity;
      for (const c of candidates) if (c !== w) level = Math.min(level, traffic(c));
      anchor(w, Math.max(traffic(w), Number.isFinite(level) ? level : 0));
    } else if (a && a.weight !== w.weight) {
      anchor(w, traffic(w));
    }
  };
  return {
    pick(candidates) {
      for (const w of candidates) if (w.ramp || anchors.has(w)) track(w, candidates);
      let best = candidates[0]!;
      let min = traffic(best);
      for (let i = 1; i < candidates.length; i++) {
        const w = candidates[i]!;
        const t = traffic(w);
        if (t < min) {
          min = t;
          best = w;
        }
      }
      return best;
    },
    reset(workers) {
      anchors = new WeakMap();
      for (const w of workers) {
        w.transferred = 0;
        w.read = 0;
      }
    },
  };
});

/** The election walk, on every call. */
export function refElect(balancer: Balancer, avoid: ReadonlySet<Worker> | undefined): Worker | 'full' | undefined {
  for (const tier of balancer.tiers()) {
    const candidates: Worker[] = [];
    const spares: Worker[] = [];
    const standbys: Worker[] = [];
    let holes = 0;
    let full = 0;
    for (const w of tier) {
      if (w.draining) {
        if (!w.spare && !w.standby) holes++;
        continue;
      }
      if (!w.isUsable()) balancer.retryWorker(w);
      if (w.busy >= w.max && w.isUsable() && !avoid?.has(w)) {
        full++;
        continue;
      }
      const usable = w.isUsable() && !avoid?.has(w);
      if (usable && w.ramp) refreshRamp(w, balancer.clock.now());
      if (w.spare) {
        if (usable) spares.push(w);
      } else if (w.standby) {
        if (usable) standbys.push(w);
      } else if (usable) {
        candidates.push(w);
      } else {
        holes++;
      }
    }
    for (let i = 0; i < spares.length && i < holes; i++) candidates.push(spares[i]!);
    if (candidates.length > 0) return balancer.scheduler.pick(candidates);
    if (full > 0) return 'full';
    if (standbys.length > 0) return balancer.scheduler.pick(standbys);
  }
  return undefined;
}

/** Force recovery, walking the workers on every call. */
export function refForceRecovery(balancer: Balancer): void {
  if (balancer.workers.length === 0) return;
  for (const w of balancer.workers) {
    if (w.inError) balancer.retryWorker(w);
    if (!w.inError) return;
  }
  if (!balancer.forcerecovery) return;
  for (const w of balancer.workers) {
    w.retries++;
    balancer.setFlag(w, IN_ERROR, false, 'forced recovery: every worker was in error');
  }
}

function refChargeStickyHit(balancer: Balancer, routed: Worker): void {
  let total = 0;
  for (const w of balancer.workers) {
    if (w.isUsable()) {
      w.lbstatus += w.lbfactor;
      total += w.lbfactor;
    }
  }
  routed.lbstatus -= total;
}

/** find_route_worker as it was: every worker visited, twice (regular, then hot standbys). */
function refFindRouteWorker(
  balancer: Balancer,
  route: string,
  avoid: ReadonlySet<Worker> | undefined,
  depth = 0,
): Worker | undefined {
  for (const standbyPass of [false, true]) {
    for (const w of balancer.workers) {
      if (w.standby !== standbyPass || w.route === '' || w.route !== route) continue;
      if (!w.isUsable()) balancer.retryWorker(w);
      if (w.isUsable() && !avoid?.has(w)) return w;
      if (w.redirect !== '' && depth < balancer.workers.length) {
        const next = refFindRouteWorker(balancer, w.redirect, avoid, depth + 1);
        if (next) return next;
      }
    }
  }
  return undefined;
}

function refRouteHasOwner(balancer: Balancer, route: string): boolean {
  return route !== '' && balancer.workers.some((w) => w.route === route);
}

/** selectWorker as it was, on the walks above. */
export function refSelectWorker(
  balancer: Balancer,
  hit: StickyHit | undefined,
  ctx: RequestContext,
  avoid: ReadonlySet<Worker> | undefined,
): Selection {
  refForceRecovery(balancer);
  if (hit && hit.route !== '') {
    const routed = refFindRouteWorker(balancer, hit.route, avoid);
    if (routed && routed.busy >= routed.max) return { worker: undefined, reason: 'full' };
    if (routed) {
      refChargeStickyHit(balancer, routed);
      routed.elected++;
      if (routed.route !== hit.route) ctx.routeChanged = true;
      return { worker: routed, via: 'route' };
    }
    if (balancer.nofailover && refRouteHasOwner(balancer, hit.route)) {
      return { worker: undefined, reason: 'route-unavailable' };
    }
  }
  const chosen = refElect(balancer, avoid);
  if (chosen === 'full') return { worker: undefined, reason: 'full' };
  if (!chosen) return { worker: undefined, reason: 'no-worker' };
  chosen.elected++;
  if (balancer.sticky || balancer.routecookie) ctx.routeChanged = true;
  return { worker: chosen, via: 'scheduler' };
}
