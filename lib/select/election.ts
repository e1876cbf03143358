import type { Worker } from '../core/worker.js';
import type { Selector } from './selector.js';
import { refreshRamp } from '../core/ramp.js';
import { CandidateGroup } from '../schedulers/group.js';
import { DISABLED, STOPPED } from '../model/status.js';

/**
 * What the last full election found, and what it depends on. While `version` is the selector's and
 * the clock is before `due`, walking the tiers again would visit the same workers in the same
 * states, do nothing on the way (no retry is due, no ramp is running) and find the same group, so
 * the scheduler is handed `group` directly: the same CandidateGroup object every time, which is
 * what lets a scheduler keep a structure over it (Scheduler.pickCached).
 */
export interface ElectionCache {
  version: number;
  /**
   * The earliest retry time of a worker in error the walk visited (Infinity: none; −Infinity or a time
   * already past when a walk that changes nothing built it: the next election walks again).
   */
  due: number;
  /** The group the scheduler ranks, or undefined when the answer was `outcome`. */
  group: CandidateGroup<Worker> | undefined;
  outcome: 'full' | undefined;
  /** Usable workers outside `group` (sticky accounting credits them too) and the lbfactor sum of all usable. */
  others: readonly Worker[];
  usableTotal: number;
}

/**
 * The generic election, shared by every scheduler (Apache's ap_proxy_balancer_get_best_worker).
 *
 * lbsets are tried lowest first. In a tier, usable regular workers are candidates; a draining,
 * unusable or already-tried regular worker is a "hole", and hot spares (R) fill at most that many
 * holes, in config order, competing with the regular workers. Only when a tier has no candidate do
 * its hot standbys (H) compete among themselves; only then is the next tier tried. Workers in error
 * get their retry check on the way. The scheduler ranks the first non-empty group it is given.
 * Workers at their `max` are skipped; if that leaves a tier empty the answer is 'full' (wait for a
 * slot) rather than a fall-back to standbys or the next tier, which are for failures, not load.
 *
 * Without an avoid set the walk's result is cached (ElectionCache), so a selection costs what the
 * scheduler's own structure costs, not O(n).
 */
export function elect(
  sel: Selector,
  avoid: ReadonlySet<Worker> | undefined,
  key?: string,
): Worker | 'full' | undefined {
  const plain = avoid === undefined || avoid.size === 0;
  if (plain) {
    const c = sel.election;
    if (c?.version === sel.version && (c.due === Infinity || sel.clock.now() < c.due)) {
      if (c.group === undefined) return c.outcome;
      const s = sel.scheduler;
      return s.pickCached === undefined ? s.pick(c.group.workers, key) : s.pickCached(c.group, key);
    }
  }
  return walk(sel, plain ? undefined : avoid, key);
}

function walk(
  sel: Selector,
  avoid: ReadonlySet<Worker> | undefined,
  key: string | undefined,
): Worker | 'full' | undefined {
  const version = sel.version;
  const found = findGroup(sel, avoid, true);
  // A retry or a ramp ending on the way changed the version: cache from the next walk on.
  const cached = found.cacheable && avoid === undefined && sel.version === version;
  const { group } = found;
  if (!cached) return group === undefined ? found.outcome : sel.scheduler.pick(group, key);
  const c = remember(sel, version, found);
  if (c.group === undefined) return c.outcome;
  const s = sel.scheduler;
  return s.pickCached === undefined ? s.pick(c.group.workers, key) : s.pickCached(c.group, key);
}

/**
 * The election's cache for sticky accounting, which needs the usable workers as the cached group
 * plus the others: the cache if it is of this version, else one built by a walk that changes
 * nothing (no retry check, no ramp refresh). Sticky traffic alone never elects, so without this
 * every sticky hit would credit the workers one by one. Undefined when a ramp is running (weights
 * then move with the clock). A retry already due is not made here: the cache then keeps that time
 * as its `due`, so the next election still walks and makes it.
 */
export function currentElection(sel: Selector): ElectionCache | undefined {
  const c = sel.election;
  if (c?.version === sel.version) return c;
  const found = findGroup(sel, undefined, false);
  if (!found.cacheable) return undefined;
  return remember(sel, sel.version, found);
}

interface Found {
  /** The group the scheduler ranks, or undefined with `outcome`. */
  group: Worker[] | undefined;
  outcome: 'full' | undefined;
  /** The earliest retry time of a worker in error on the way (Infinity: none). */
  due: number;
  /** False when a ramp was running: the weights move with the clock. */
  cacheable: boolean;
}

/**
 * The tier walk: the first group with a candidate, or 'full', or nothing. With `retry` (an
 * election) workers in error get their retry check and running ramps are refreshed on the way;
 * without it nothing is changed.
 */
function findGroup(sel: Selector, avoid: ReadonlySet<Worker> | undefined, retry: boolean): Found {
  let cacheable = true;
  let due = Infinity;
  for (const tier of sel.tiers()) {
    const panic = (sel.settings.panic > 0 || sel.panicking.size > 0) && inPanic(sel, tier, retry);
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
      if (!w.isUsable()) {
        if (retry) sel.retryWorker(w);
        // Still in error: the walk must run again when its retry time comes (a stopped one never).
        due = Math.min(due, sel.retryTime(w));
      }
      // In panic, a regular worker in error or failing its health check is a candidate too.
      const up = w.isUsable() || (panic && panicCandidate(w));
      if (w.full && up && !avoid?.has(w)) {
        // At its connection limit: healthy, so not a hole for spares, and not a reason to fall back.
        full++;
        continue;
      }
      const usable = up && !avoid?.has(w);
      // Slow start: the scheduler reads w.weight, which only differs from lbfactor during a ramp.
      if (usable && w.ramp) {
        if (retry) refreshRamp(w, sel.clock.now());
        // Running, the weight moves with the clock; ending now, the version moved anyway.
        cacheable = false;
      }
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
    const group =
      candidates.length > 0 ? candidates : full > 0 ? undefined : standbys.length > 0 ? standbys : undefined;
    if (group !== undefined || full > 0)
      return { group, outcome: group === undefined ? 'full' : undefined, due, cacheable };
  }
  return { group: undefined, outcome: undefined, due, cacheable };
}

/** A regular worker that only its error or health state keeps out (not disabled, stopped or draining). */
function panicCandidate(w: Worker): boolean {
  return !w.spare && !w.standby && !w.draining && !w.has(DISABLED | STOPPED);
}

/**
 * Envoy's panic threshold, per tier: fewer of its regular workers (disabled, stopped and draining ones
 * not counted) are usable than `panic` percent of them. An election (`retry`) runs the retry checks
 * first, so a worker whose retry time has come counts as usable, and tells the selector of a change.
 */
function inPanic(sel: Selector, tier: readonly Worker[], retry: boolean): boolean {
  let total = 0;
  let usable = 0;
  for (const w of tier) {
    if (!panicCandidate(w)) continue;
    if (retry && !w.isUsable()) sel.retryWorker(w);
    total++;
    if (w.isUsable()) usable++;
  }
  const on = total > 0 && usable * 100 < sel.settings.panic * total;
  if (retry) sel.notePanic(tier[0]!.lbset, on, usable, total);
  return on;
}

function remember(sel: Selector, version: number, found: Found): ElectionCache {
  const { outcome, due } = found;
  const group = found.group === undefined ? undefined : new CandidateGroup(found.group);
  const others: Worker[] = [];
  let usableTotal = 0;
  if (group !== undefined) {
    for (const w of sel.workers) {
      if (!w.isUsable()) continue;
      usableTotal += w.lbfactor;
      if (group.indexOf(w) < 0) others.push(w);
    }
  }
  return (sel.election = { version, due, group, outcome, others, usableTotal });
}
