import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { BalancerSpec, MemberSpec, StickyNames } from '../config/spec.js';
import type { RouteCookieSpec } from './route-cookie.js';
import type { Clock, RandomSource } from './clock.js';
import type { Scheduler } from '../schedulers/types.js';
import type { Outcome } from '../forward/outcome.js';
import type { WorkerEvents } from '../health/events.js';
import type { OutlierSpec, SlowStartSpec } from '../health/spec.js';
import { getScheduler } from '../schedulers/registry.js';
import { BalancerError } from '../errors.js';
import { log } from '../debug.js';
import { Worker, type WorkerObserver } from './worker.js';
import type { ElectionCache } from './election.js';
import { IN_ERROR, statusLetters } from './status.js';
import { emitWorkerEvent } from '../health/events.js';

const NO_WORKERS: readonly Worker[] = Object.freeze([]);

export interface WorkerStateEvent {
  balancer: string;
  worker: string;
  /** Status letters before and after, e.g. "" → "E". */
  from: string;
  to: string;
  reason: string;
  time: number;
}

/** How one attempt on a worker ended (for passive health checks, metrics, logs). */
export interface AttemptEvent {
  worker: Worker;
  outcome: Outcome;
  /** HTTP method of the request. */
  method: string;
  time: number;
}

/** statechange and attempt, plus the worker lifecycle events of lib/health/events.ts. */
export interface BalancerEvents extends WorkerEvents {
  statechange: [WorkerStateEvent];
  attempt: [AttemptEvent];
}

/**
 * One balancer (Apache's proxy_balancer): its settings, its workers in config order and its
 * scheduler instance. Every field the request path reads is plain data; changes go through the
 * methods below so caches stay right and every state change is logged and emitted once.
 */
export class Balancer extends EventEmitter<BalancerEvents> implements WorkerObserver {
  /** Lower-case name without the scheme. */
  readonly name: string;
  /** "balancer://name", as BALANCER_NAME. */
  readonly id: string;
  readonly mount: string;
  readonly path: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly workers: Worker[] = [];
  /** Slots for workers added at run time (Apache growth); grows only. */
  readonly maxWorkers: number;
  /** CSRF token for the manager; random unless configured. */
  readonly nonce: string;

  lbmethod: string;
  scheduler: Scheduler;
  /** Explicit maxattempts; undefined = default (configured members − 1). */
  maxattemptsSet: number | undefined;
  nofailover: boolean;
  sticky: StickyNames | undefined;
  stickysessionsep: string | undefined;
  scolonpathdelim: boolean;
  timeoutMs: number;
  failonstatus: ReadonlySet<number>;
  failontimeout: boolean;
  forcerecovery: boolean;
  /** Passive ejection settings (undefined = off); read by lib/health/outlier.ts. */
  outlier: OutlierSpec | undefined;
  /** Slow start settings (undefined = off); read by lib/health/slow-start.ts. */
  slowstart: SlowStartSpec | undefined;
  /** The balancer-set route cookie, if configured. */
  readonly routecookie: RouteCookieSpec | undefined;
  retryon: 'connect' | 'idempotent';
  readonly replay: ((req: IncomingMessage) => boolean) | undefined;
  readonly retrybudget: { percent: number; min: number };
  readonly queue: { size: number; timeoutMs: number };
  /** Most open upgraded connections over all workers (Infinity: no limit). */
  readonly maxupgrades: number;
  /** Open upgraded connections over all workers. */
  upgrades = 0;
  /** Requests being handled (for the retry budget). */
  inflight = 0;
  /** Requests currently on a second or later attempt. */
  retrying = 0;

  /** The election's last result and what it depends on (lib/core/election.ts). @internal */
  election: ElectionCache | undefined;

  readonly #defaultMaxAttempts: number;
  #tiers: Worker[][] | undefined;
  /** Route → the workers that own it, in config order; built on first use, dropped when a route changes. */
  #routes: Map<string, Worker[]> | undefined;
  /** Bumped by every change that can change an election's result; see `version`. */
  #version = 0;
  /** forceRecovery() found a worker not in error at this version; nothing to do before #recoveryDue. */
  #recoveryVersion = -1;
  #recoveryDue = 0;
  readonly #waiters = new Set<() => void>();
  /** Requests waiting for a worker with a free slot, first come first served. */
  readonly #slotWaiters: (() => void)[] = [];

  constructor(spec: BalancerSpec, clock: Clock, random: RandomSource) {
    super();
    this.name = spec.name;
    this.id = `balancer://${spec.name}`;
    this.mount = spec.mount;
    this.path = spec.path;
    this.clock = clock;
    this.random = random;
    this.nonce = spec.nonce ?? randomUUID();
    this.lbmethod = spec.lbmethod;
    this.scheduler = this.#createScheduler(spec.lbmethod);
    this.maxattemptsSet = spec.maxattempts;
    this.nofailover = spec.nofailover;
    this.sticky = spec.sticky;
    this.stickysessionsep = spec.stickysessionsep;
    this.scolonpathdelim = spec.scolonpathdelim;
    this.timeoutMs = spec.timeoutMs;
    this.failonstatus = spec.failonstatus;
    this.failontimeout = spec.failontimeout;
    this.forcerecovery = spec.forcerecovery;
    this.outlier = spec.outlier;
    this.slowstart = spec.slowstart;
    this.routecookie = spec.routecookie;
    this.retryon = spec.retryon;
    this.replay = spec.replay;
    this.retrybudget = spec.retrybudget;
    this.queue = spec.queue;
    this.maxupgrades = spec.maxupgrades;
    this.maxWorkers = spec.members.length + spec.growth;
    this.#defaultMaxAttempts = Math.max(0, spec.members.length - 1);
    for (const m of spec.members) this.#adopt(new Worker(m));
  }

  /**
   * Changes whenever something an election depends on may have changed: a status flag, an lbset,
   * a loadfactor, a slow-start ramp (all told by the Worker's setters, whoever writes them), an
   * error period (markError), a worker added, or a worker reaching or leaving its `max`. Retry
   * times are the other input: the election cache keeps the earliest one it must act on.
   */
  get version(): number {
    return this.#version;
  }

  /** WorkerObserver: one of this balancer's workers changed an election input. */
  workerChanged(_w: Worker, tiers: boolean): void {
    this.#version++;
    if (tiers) this.#tiers = undefined;
  }

  /** WorkerObserver: a worker's route changed. */
  routeChanged(): void {
    this.#routes = undefined;
  }

  #adopt(w: Worker): void {
    w.observer = this;
    this.workers.push(w);
    this.#version++;
    this.#routes = undefined;
  }

  /** Extra attempts after the first (Apache maxattempts; default configured members − 1). */
  get maxAttempts(): number {
    return this.maxattemptsSet ?? this.#defaultMaxAttempts;
  }

  worker(name: string): Worker | undefined {
    return this.workers.find((w) => w.name === name);
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
    if (!this.forcerecovery) return;
    for (const w of this.workers) {
      w.retries++;
      this.#setStatus(w, w.status & ~IN_ERROR, 'forced recovery: every worker was in error');
    }
  }

  /** Puts a worker in error state (unless it ignores errors) and starts its retry window. */
  markError(w: Worker, reason: string): void {
    if (w.ignoresErrors) return;
    w.errorTime = this.clock.now();
    // A new error period moves the retry time even when the status stays E.
    this.#version++;
    this.#setStatus(w, w.status | IN_ERROR, reason);
  }

  /** Outlier ejection: error state for `ms` rather than the worker's retry (lib/health/outlier.ts). */
  eject(w: Worker, ms: number, reason: string): void {
    if (w.ignoresErrors) return;
    w.ejectionMs = ms;
    this.markError(w, reason);
  }

  /** Error state as another instance saw it (lib/cluster): its time and ejection window, not now's. */
  adoptError(w: Worker, errorTime: number, ejectionMs: number | undefined, reason: string): void {
    if (w.ignoresErrors) return;
    w.errorTime = errorTime;
    w.ejectionMs = ejectionMs;
    // The retry time moves even when the status stays E (the election cache keeps the earliest).
    this.#version++;
    this.#setStatus(w, w.status | IN_ERROR, reason);
  }

  /** Sets or clears one status flag (admin and health changes). */
  setFlag(w: Worker, bit: number, on: boolean, reason: string): void {
    if (on && bit === IN_ERROR) {
      this.markError(w, reason);
      return;
    }
    this.#setStatus(w, on ? w.status | bit : w.status & ~bit, reason);
  }

  /** Changes the scheduler; its state starts afresh (Apache resets on an lbmethod change). */
  setLbmethod(name: string): void {
    // The old scheduler's lazy credits go back into the workers before it is dropped.
    for (const w of this.workers) w.ledger?.detach();
    this.scheduler = this.#createScheduler(name);
    this.lbmethod = name;
    this.scheduler.reset?.(this.workers);
  }

  /** Apache's recalc_factors after a loadfactor edit: every credit restarts at its lbfactor. */
  recalcFactors(): void {
    for (const w of this.workers) w.lbstatus = w.lbfactor;
  }

  setLbset(w: Worker, lbset: number): void {
    w.lbset = lbset;
    this.#tiers = undefined;
  }

  /** Adds a worker at run time within growth; it starts disabled, as in Apache. */
  addWorker(spec: MemberSpec): Worker {
    if (this.workers.length >= this.maxWorkers) {
      throw new BalancerError('ERR_CONFIG_INVALID', `${this.id}: no free worker slot (growth is used up)`);
    }
    if (this.worker(spec.name))
      throw new BalancerError('ERR_CONFIG_DUPLICATE', `${this.id}: ${spec.name} is already a member`);
    const w = new Worker(spec);
    this.#adopt(w);
    this.#tiers = undefined;
    this.#notify();
    emitWorkerEvent(this, 'worker-added', w, 'added at run time');
    return w;
  }

  /**
   * Counts a request on the worker; call synchronously right after selecting it. An upgrade counts
   * as busy (bybusyness sees it) but takes an upgrade slot instead of one of `max`.
   */
  acquire(w: Worker, kind: 'request' | 'upgrade' = 'request'): void {
    w.busy++;
    if (kind === 'upgrade') {
      w.upgrades++;
      this.upgrades++;
    } else if (w.busy - w.upgrades === w.max) {
      // Reaching max takes it out of the election ('full'); leaving it (release) brings it back.
      this.#version++;
    }
    this.scheduler.countersChanged?.(w);
  }

  /** Ends one acquire of the same kind: exactly once per acquire, on every path. Publishes the outcome. */
  release(w: Worker, outcome: Outcome, method: string, kind: 'request' | 'upgrade' = 'request'): void {
    w.busy--;
    if (kind === 'upgrade') {
      w.upgrades--;
      this.upgrades--;
    } else if (w.busy - w.upgrades === w.max - 1) this.#version++;
    w.transferred += outcome.transferred;
    w.read += outcome.read;
    this.scheduler.countersChanged?.(w);
    this.#notify();
    if (this.listenerCount('attempt') > 0) this.emit('attempt', { worker: w, outcome, method, time: this.clock.now() });
  }

  /**
   * Waits for the next state change that could make a worker usable, the next retry time of a
   * worker in error, or `deadline`, whichever comes first. Per request: no shared state is mutated
   * (Apache zeroes the shared timeout while one request waits). `cancel()` ends the wait early.
   */
  waitForChange(deadline: number): { done: Promise<void>; cancel: () => void } {
    let wake = deadline;
    const now = this.clock.now();
    for (const w of this.workers) {
      const due = w.errorTime + w.errorRetryMs;
      // A due time already past (a draining worker the election skips) would only spin the loop.
      if (w.inError && !w.stopped && due > now) wake = Math.min(wake, due);
    }
    let cancel = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      const finish = (): void => {
        this.clock.clearTimeout(timer);
        this.#waiters.delete(finish);
        resolve();
      };
      const timer = this.clock.setTimeout(finish, Math.max(0, wake - this.clock.now()));
      this.#waiters.add(finish);
      cancel = finish;
    });
    return { done, cancel };
  }

  /** Requests in flight on all workers. */
  get busy(): number {
    let n = 0;
    for (const w of this.workers) n += w.busy;
    return n;
  }

  #notify(): void {
    // Copied because a wake-up removes itself; skipped when empty (every release comes here).
    if (this.#waiters.size > 0) for (const wake of [...this.#waiters]) wake();
    this.#slotWaiters.shift()?.();
  }

  /** True if one more retry fits the retry budget: max(min, percent % of requests in flight). */
  retryAllowed(): boolean {
    const cap = Math.max(this.retrybudget.min, Math.floor((this.retrybudget.percent * this.inflight) / 100));
    return this.retrying < cap;
  }

  /** Requests queued for a free slot. */
  get queued(): number {
    return this.#slotWaiters.length;
  }

  /**
   * Joins the queue of requests waiting for a worker with a free slot (every candidate at its
   * `max`). Woken one at a time, in arrival order, as slots free up; undefined when the queue is full.
   */
  waitForSlot(deadline: number): { done: Promise<void>; cancel: () => void } | undefined {
    if (this.#slotWaiters.length >= this.queue.size) return undefined;
    let cancel = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      const finish = (): void => {
        this.clock.clearTimeout(timer);
        const i = this.#slotWaiters.indexOf(finish);
        if (i !== -1) this.#slotWaiters.splice(i, 1);
        resolve();
      };
      const timer = this.clock.setTimeout(finish, Math.max(0, deadline - this.clock.now()));
      this.#slotWaiters.push(finish);
      cancel = finish;
    });
    return { done, cancel };
  }

  #setStatus(w: Worker, status: number, reason: string): void {
    if (status === w.status) return;
    const from = statusLetters(w.status);
    w.status = status;
    // An ejection's time belongs to that error period only.
    if (!(status & IN_ERROR)) w.ejectionMs = undefined;
    const to = statusLetters(status);
    log.state('%s %s: %s -> %s (%s)', this.id, w.name, from || 'ok', to || 'ok', reason);
    if (w.isUsable()) this.#notify();
    this.emit('statechange', { balancer: this.id, worker: w.name, from, to, reason, time: this.clock.now() });
  }

  #createScheduler(name: string): Scheduler {
    const factory = getScheduler(name);
    if (!factory) throw new BalancerError('ERR_SCHEDULER_UNKNOWN', `${this.id}: lbmethod ${name} is not registered`);
    return factory({ random: this.random, now: () => this.clock.now() });
  }
}
