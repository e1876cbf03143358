import type { Worker, WorkerObserver } from '../core/worker.js';
import type { Clock, RandomSource } from '../model/clock.js';
import type { RequestContext } from '../model/context.js';
import type { StickyHit } from '../model/sticky.js';
import type { Scheduler, SchedulerOptions } from '../schedulers/types.js';
import { getScheduler } from '../schedulers/registry.js';
import { IN_ERROR } from '../model/status.js';
import { BalancerError } from '../errors.js';
import { log } from '../debug.js';
import { elect, type ElectionCache } from './election.js';
import { findRouteWorker } from './route.js';
import { chargeStickyHit, observation } from './accounting.js';
import type { Outcome } from '../model/outcome.js';

export type Selection =
  | { worker: Worker; via: 'route' | 'scheduler' }
  | { worker: undefined; reason: 'route-unavailable' | 'no-worker' | 'full' | 'queue-full' };

/** The balancer settings selection reads; a Balancer is one (edits to them apply at once). */
export interface SelectionSettings extends SchedulerOptions {
  /** "balancer://name", for logs and errors. */
  readonly id: string;
  readonly nofailover: boolean;
  readonly forcerecovery: boolean;
  /** Set: a balanced election tells the client its (new) route. */
  readonly sticky: object | undefined;
  readonly routecookie: object | undefined;
  /** Percent of a tier's workers below which it spreads over its workers in error too (0: off). */
  readonly panic: number;
}

/** What the selector is built from: the balancer's workers (the same array) and its surroundings. */
export interface SelectorInit {
  settings: SelectionSettings;
  workers: Worker[];
  clock: Clock;
  random: RandomSource;
  lbmethod: string;
  /** Applies a status change (the balancer logs it, emits statechange and wakes waiters). */
  setStatus: (w: Worker, status: number, reason: string) => void;
  /** A tier entered (on) or left panic. */
  panicChanged?: (lbset: number, on: boolean, usable: number, total: number) => void;
}

const NO_WORKERS: readonly Worker[] = Object.freeze([]);

/**
 * One balancer's selection (Apache's proxy_balancer_pre_request and find_best_worker): lbset tiers,
 * hot spares and standbys, drain, error retry and forced recovery, the route index and sticky
 * accounting, the cached election, and the scheduler with whatever structures it keeps. Workers
 * tell it (WorkerObserver) about every change an election depends on.
 */
export class Selector implements WorkerObserver {
  readonly settings: SelectionSettings;
  readonly workers: readonly Worker[];
  readonly clock: Clock;
  readonly random: RandomSource;
  /** The election's last result and what it depends on (./election.ts). */
  election: ElectionCache | undefined;

  #scheduler: Scheduler;
  readonly #setStatus: SelectorInit['setStatus'];
  readonly #panicChanged: SelectorInit['panicChanged'];
  /** The lbsets in panic. */
  readonly #panicking = new Set<number>();
  #tiers: Worker[][] | undefined;
  /** Route → the workers that own it, in config order; built on first use, dropped when a route changes. */
  #routes: Map<string, Worker[]> | undefined;
  /** Bumped by every change that can change an election's result; see `version`. */
  #version = 0;
  /** forceRecovery() found a worker not in error at this version; nothing to do before #recoveryDue. */
  #recoveryVersion = -1;
  #recoveryDue = 0;

  constructor(init: SelectorInit) {
    this.settings = init.settings;
    this.workers = init.workers;
    this.clock = init.clock;
    this.random = init.random;
    this.#setStatus = init.setStatus;
    this.#panicChanged = init.panicChanged;
    this.#scheduler = this.#createScheduler(init.lbmethod);
    for (const w of init.workers) w.observer = this;
  }

  /**
   * Changes whenever something an election depends on may have changed: a status flag, an lbset,
   * a loadfactor, a slow-start ramp (all told by the Worker's setters, whoever writes them), an
   * error period, a worker added, or a worker reaching or leaving its `max`. Retry times are the
   * other input: the election cache keeps the earliest one it must act on.
   */
  get version(): number {
    return this.#version;
  }

  get scheduler(): Scheduler {
    return this.#scheduler;
  }

  /** WorkerObserver: a worker changed an election input. */
  workerChanged(_w: Worker, tiers: boolean): void {
    this.#version++;
    if (tiers) this.#tiers = undefined;
  }

  /** WorkerObserver: a worker's route changed. */
  routeChanged(): void {
    this.#routes = undefined;
  }

  /** An input no worker setter reports changed: a new error period, a worker reaching or leaving `max`. */
  inputsChanged(): void {
    this.#version++;
  }

  /** A worker joined the balancer's array (pushed by the balancer). */
  workerAdded(w: Worker): void {
    w.observer = this;
    this.#version++;
    this.#routes = undefined;
    this.#tiers = undefined;
  }

  /** A worker left the balancer's array (spliced out by the balancer); the scheduler's structures are rebuilt. */
  workerRemoved(w: Worker): void {
    if (w.observer === this) w.observer = undefined;
    this.#scheduler.settle?.();
    this.election = undefined;
    this.#version++;
    this.#routes = undefined;
    this.#tiers = undefined;
  }

  /** Workers grouped by lbset, lowest first, each group in config order. */
  tiers(): readonly Worker[][] {
    if (!this.#tiers) {
      const byLbset = new Map<number, Worker[]>();
      for (const w of this.workers) {
        const tier = byLbset.get(w.lbset);
        if (tier) tier.push(w);
        else byLbset.set(w.lbset, [w]);
      }
      this.#tiers = [...byLbset.keys()].sort((a, b) => a - b).map((k) => byLbset.get(k)!);
    }
    return this.#tiers;
  }

  /**
   * The workers whose route is `route`, in config order (empty for "" and unknown routes): a sticky
   * request finds its worker without visiting the others.
   */
  routeOwners(route: string): readonly Worker[] {
    if (!this.#routes) {
      const routes = new Map<string, Worker[]>();
      for (const w of this.workers) {
        if (w.route === '') continue;
        const owners = routes.get(w.route);
        if (owners) owners.push(w);
        else routes.set(w.route, [w]);
      }
      this.#routes = routes;
    }
    return this.#routes.get(route) ?? NO_WORKERS;
  }

  /** An election found tier `lbset` in panic or not; told once per change. */
  notePanic(lbset: number, on: boolean, usable: number, total: number): void {
    if (this.#panicking.has(lbset) === on) return;
    if (on) this.#panicking.add(lbset);
    else this.#panicking.delete(lbset);
    this.#panicChanged?.(lbset, on, usable, total);
  }

  /** The lbsets in panic now. */
  get panicking(): ReadonlySet<number> {
    return this.#panicking;
  }

  /**
   * Apache's ap_proxy_retry_worker: a worker in error whose retry time has passed (or that ignores
   * errors) leaves error state so the next request tests it. A stopped worker is never retried.
   */
  retryWorker(w: Worker): void {
    if (this.clock.now() >= this.retryTime(w)) {
      w.retries++;
      this.#setStatus(w, w.status & ~IN_ERROR, 'retry time passed');
    }
  }

  /**
   * From when retryWorker takes `w` out of error: Infinity when it never would (not in error, or
   * stopped), −Infinity for a worker that ignores errors (at once).
   */
  retryTime(w: Worker): number {
    if (!w.inError || w.stopped) return Infinity;
    return w.ignoresErrors ? -Infinity : w.errorTime + w.errorRetryMs;
  }

  /**
   * Apache's force_recovery: if every worker is in error even after its retry check, and
   * forcerecovery is on, clear the error on all of them so the request can try them again.
   */
  forceRecovery(): void {
    if (this.workers.length === 0) return;
    // Nothing changed since a walk stopped at a worker not in error, and no retry time before it
    // has come: the walk would do nothing again (it runs on every selection; keep it O(1)).
    const v = this.#version;
    if (this.#recoveryVersion === v && (this.#recoveryDue === Infinity || this.clock.now() < this.#recoveryDue)) return;
    let due = Infinity;
    for (const w of this.workers) {
      if (w.inError) this.retryWorker(w);
      if (!w.inError) {
        // never in error, or its retry time has passed
        if (this.#version === v) {
          this.#recoveryVersion = v;
          this.#recoveryDue = due;
        }
        return;
      }
      if (!w.stopped) due = Math.min(due, w.errorTime + w.errorRetryMs);
    }
    if (!this.settings.forcerecovery) return;
    for (const w of this.workers) {
      w.retries++;
      this.#setStatus(w, w.status & ~IN_ERROR, 'forced recovery: every worker was in error');
    }
  }

  /**
   * One selection, run for every attempt of a request (Apache's proxy_balancer_pre_request):
   * forced recovery, then the sticky route, then the scheduler. Updates `ctx` like Apache's env.
   */
  select(hit: StickyHit | undefined, ctx: RequestContext, avoid: ReadonlySet<Worker> | undefined): Selection {
    this.forceRecovery();
    if (hit && hit.route !== '') {
      const id = this.settings.id;
      const routed = findRouteWorker(this, hit.route, avoid);
      if (routed?.full) return { worker: undefined, reason: 'full' };
      if (routed) {
        chargeStickyHit(this, routed);
        routed.elected++;
        if (routed.route !== hit.route) ctx.routeChanged = true;
        if (log.route.enabled) log.route('%s route %s -> %s', id, hit.route, routed.name);
        return { worker: routed, via: 'route' };
      }
      if (this.settings.nofailover && this.routeOwners(hit.route).length > 0) {
        log.route('%s route %s: its workers are unusable and nofailover is on', id, hit.route);
        return { worker: undefined, reason: 'route-unavailable' };
      }
    }
    return this.electBalanced(ctx, avoid);
  }

  /** The scheduler path alone (also what the balancer timeout re-runs while it waits). */
  electBalanced(ctx: RequestContext, avoid: ReadonlySet<Worker> | undefined): Selection {
    const chosen = elect(this, avoid, ctx.hashKey);
    if (chosen === 'full') return { worker: undefined, reason: 'full' };
    if (!chosen) return { worker: undefined, reason: 'no-worker' };
    chosen.elected++;
    // The client sent no usable route, or its worker is gone: it should be told the new one.
    if (this.settings.sticky || this.settings.routecookie) ctx.routeChanged = true;
    if (log.select.enabled) {
      log.select('%s elected %s (lbstatus %d)', this.settings.id, chosen.name, this.lbstatus(chosen));
    }
    return { worker: chosen, via: 'scheduler' };
  }

  /** A worker's busy, transferred or read counter changed; `full` when it reached or left its `max`. */
  countersChanged(w: Worker, full: boolean): void {
    if (full) this.#version++;
    this.#scheduler.countersChanged?.(w);
  }

  /** An attempt on w ended: its response-head latency, or a failure, for a scheduler that learns from it. */
  attemptEnded(w: Worker, outcome: Outcome): void {
    const s = this.#scheduler;
    if (s.observe === undefined) return;
    const seen = observation(outcome);
    if (seen !== undefined) s.observe(w, seen);
  }

  /** w's scheduler credit as the scheduler reports it (the manager's "lbstatus"). */
  lbstatus(w: Worker): number {
    const s = this.#scheduler;
    return s.lbstatus === undefined ? w.lbstatus : s.lbstatus(w);
  }

  /** Sets w's credit from outside the scheduler (a ramp, the manager, a test). */
  setLbstatus(w: Worker, value: number): void {
    this.#scheduler.settle?.();
    w.lbstatus = value;
  }

  /** Apache's recalc_factors after a loadfactor edit: every credit restarts at its lbfactor. */
  recalcFactors(): void {
    this.#scheduler.settle?.();
    for (const w of this.workers) w.lbstatus = w.lbfactor;
  }

  /** Changes the scheduler; its state starts afresh (Apache resets on an lbmethod change). */
  setScheduler(name: string): void {
    const next = this.#createScheduler(name);
    // The old scheduler's lazy credits go back into the workers before it is dropped.
    this.#scheduler.settle?.();
    this.#scheduler = next;
    next.reset?.(this.workers);
  }

  #createScheduler(name: string): Scheduler {
    const factory = getScheduler(name);
    if (!factory) {
      throw new BalancerError('ERR_SCHEDULER_UNKNOWN', `${this.settings.id}: lbmethod ${name} is not registered`);
    }
    return factory({ random: this.random, now: () => this.clock.now(), options: this.settings });
  }
}
