import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { BalancerSpec, DiscoverySpec, MemberSpec, StickyNames } from '../config/spec.js';
import type { RouteCookieSpec } from '../model/route-cookie.js';
import type { HashKeySpec } from '../config/scheduler-options.js';
import type { Clock, RandomSource } from '../model/clock.js';
import type { Scheduler } from '../schedulers/types.js';
import type { HealthCheckSpec, SlowStartSpec } from '../config/health-spec.js';
import type { Outcome } from '../model/outcome.js';
import type { WorkerEvents } from './events.js';
import type { RequestEvent, RequestTracer } from '../model/request-event.js';
import type { OutlierSpec } from '../config/health-spec.js';
import { BalancerError } from '../errors.js';
import { log } from '../debug.js';
import { Worker } from '../core/worker.js';
import { IN_ERROR, statusLetters } from '../model/status.js';
import { rampFactor } from '../core/ramp.js';
import { emitWorkerEvent } from './events.js';
import { Selector } from '../select/selector.js';

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

/** A tier of workers entered or left panic (the balancer's `panic` threshold). */
export interface PanicEvent {
  balancer: string;
  lbset: number;
  /** True on entering panic, false on leaving it. */
  panic: boolean;
  /** The tier's usable workers and all of them (stopped, disabled and draining ones left out). */
  usable: number;
  total: number;
  time: number;
}

/** statechange, attempt and panic, plus the worker lifecycle events of ./events.ts. */
export interface BalancerEvents extends WorkerEvents {
  statechange: [WorkerStateEvent];
  attempt: [AttemptEvent];
  /** The balancer middleware was closed: long-lived listeners (the manager's live view) end. */
  close: [];
  /** One per request when it ends (the access log: lib/model/request-event.ts); built only when listened to. */
  request: [RequestEvent];
  panic: [PanicEvent];
}

/**
 * One balancer (Apache's proxy_balancer): its settings, its workers in config order, its selector
 * (lib/select/: tiers, routes, retries, the scheduler) and its accounting of requests in flight.
 * Changes go through the methods below so every state change is logged and emitted once.
 */
export class Balancer extends EventEmitter<BalancerEvents> {
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
  /** Member groups found in DNS (lib/discovery/ resolves them and adds and removes their workers). */
  readonly discovery: readonly DiscoverySpec[];

  lbmethod: string;
  /** Who picks the worker for a request (lib/select/selector.ts). */
  readonly selector: Selector;
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
  /** Scheduler settings (p2c, ewma, hash), read on every pick; panic threshold in percent (0 = off). */
  hashkey: HashKeySpec;
  hashbalancefactor: number;
  p2cbias: number;
  ewmadecayMs: number;
  panic: number;
  /** Passive ejection settings (undefined = off); read by lib/health/outlier.ts. */
  outlier: OutlierSpec | undefined;
  /** Slow start settings (undefined = off); read by lib/health/slow-start.ts. */
  slowstart: SlowStartSpec | undefined;
  /** The balancer-set route cookie, if configured. */
  readonly routecookie: RouteCookieSpec | undefined;
  /** ProxyPassReverse: worker-pointing Location headers are rewritten to the mount. */
  readonly proxypassreverse: boolean;
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
  /** Follows each request and its attempts (tracing); undefined: none. */
  requestTracer: RequestTracer | undefined = undefined;

  readonly #configuredMembers: number;
  /** Workers added by DNS discovery: they take no growth slot, and count towards the default maxattempts. */
  #discovered = 0;
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
    this.maxattemptsSet = spec.maxattempts;
    this.nofailover = spec.nofailover;
    this.sticky = spec.sticky;
    this.stickysessionsep = spec.stickysessionsep;
    this.scolonpathdelim = spec.scolonpathdelim;
    this.timeoutMs = spec.timeoutMs;
    this.failonstatus = spec.failonstatus;
    this.failontimeout = spec.failontimeout;
    this.forcerecovery = spec.forcerecovery;
    this.hashkey = spec.hashkey;
    this.hashbalancefactor = spec.hashbalancefactor;
    this.p2cbias = spec.p2cbias;
    this.ewmadecayMs = spec.ewmadecayMs;
    this.panic = spec.panic;
    this.outlier = spec.outlier;
    this.slowstart = spec.slowstart;
    this.routecookie = spec.routecookie;
    this.proxypassreverse = spec.proxypassreverse;
    this.retryon = spec.retryon;
    this.replay = spec.replay;
    this.retrybudget = spec.retrybudget;
    this.queue = spec.queue;
    this.maxupgrades = spec.maxupgrades;
    this.maxWorkers = spec.members.length + spec.growth;
    this.#configuredMembers = spec.members.length;
    this.discovery = spec.discovery;
    for (const m of spec.members) this.workers.push(new Worker(m));
    this.selector = new Selector({
      settings: this,
      workers: this.workers,
      clock,
      random,
      lbmethod: spec.lbmethod,
      setStatus: (w, status, reason) => this.#setStatus(w, status, reason),
      panicChanged: (lbset, on, usable, total) => this.#panicChanged(lbset, on, usable, total),
    });
  }

  get scheduler(): Scheduler {
    return this.selector.scheduler;
  }

  /** Extra attempts after the first (Apache maxattempts; default configured plus discovered members − 1). */
  get maxAttempts(): number {
    return this.maxattemptsSet ?? Math.max(0, this.#configuredMembers + this.#discovered - 1);
  }

  /** Worker slots in use (of maxWorkers): every worker but those DNS discovery added. */
  get slotsUsed(): number {
    return this.workers.length - this.#discovered;
  }

  worker(name: string): Worker | undefined {
    return this.workers.find((w) => w.name === name);
  }

  /** Workers grouped by lbset, lowest first (Selector#tiers). */
  tiers(): readonly Worker[][] {
    return this.selector.tiers();
  }

  /** Apache's ap_proxy_retry_worker (Selector#retryWorker). */
  retryWorker(w: Worker): void {
    this.selector.retryWorker(w);
  }

  /** Apache's force_recovery (Selector#forceRecovery). */
  forceRecovery(): void {
    this.selector.forceRecovery();
  }

  /** Puts a worker in error state (unless it ignores errors) and starts its retry window. */
  markError(w: Worker, reason: string): void {
    if (w.ignoresErrors) return;
    w.errorTime = this.clock.now();
    // A new error period moves the retry time even when the status stays E.
    this.selector.inputsChanged();
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
    this.selector.inputsChanged();
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

  /** A tier entered or left panic (Selector): one event each way, logged by lib/health/announce.ts. */
  #panicChanged(lbset: number, on: boolean, usable: number, total: number): void {
    log.select('%s lbset %d %s panic: %d of %d workers usable', this.id, lbset, on ? 'entered' : 'left', usable, total);
    this.emit('panic', { balancer: this.id, lbset, panic: on, usable, total, time: this.clock.now() });
  }

  /** Changes the scheduler; its state starts afresh (Apache resets on an lbmethod change). */
  setLbmethod(name: string): void {
    this.selector.setScheduler(name);
    this.lbmethod = name;
  }

  /** Apache's recalc_factors after a loadfactor edit: every credit restarts at its lbfactor. */
  recalcFactors(): void {
    this.selector.recalcFactors();
  }

  /** w's scheduler credit as its scheduler reports it (the manager's "lbstatus"). */
  lbstatus(w: Worker): number {
    return this.selector.lbstatus(w);
  }

  /** Sets w's scheduler credit from outside the scheduler (the scheduler's own state is settled first). */
  setLbstatus(w: Worker, value: number): void {
    this.selector.setLbstatus(w, value);
  }

  setLbset(w: Worker, lbset: number): void {
    w.lbset = lbset;
  }

  /** Slow start: the worker's weight ramps up over the window from now (lib/health/slow-start.ts). */
  startRamp(w: Worker, spec: SlowStartSpec): void {
    const now = this.clock.now();
    w.ramp = { start: now, spec };
    w.rampFactor = rampFactor(w.ramp, now);
    // A credit frozen while the worker was out would otherwise buy it a burst of picks on return.
    if (this.lbstatus(w) > 0) this.setLbstatus(w, 0);
  }

  /** Replaces the worker's active check (undefined: none); health handling restarts its checker. */
  setHealthCheck(w: Worker, spec: HealthCheckSpec | undefined, reason: string): void {
    w.health = spec;
    emitWorkerEvent(this, 'health-check-changed', w, reason);
  }

  /** Adds a worker at run time: within growth, or outside it for one DNS discovery found (`spec.discovered`). */
  addWorker(spec: MemberSpec): Worker {
    if (spec.discovered === undefined && this.slotsUsed >= this.maxWorkers) {
      throw new BalancerError('ERR_CONFIG_INVALID', `${this.id}: no free worker slot (growth is used up)`);
    }
    if (this.worker(spec.name))
      throw new BalancerError('ERR_CONFIG_DUPLICATE', `${this.id}: ${spec.name} is already a member`);
    const w = new Worker(spec);
    this.workers.push(w);
    if (w.discovered !== undefined) this.#discovered++;
    this.selector.workerAdded(w);
    this.#notify();
    emitWorkerEvent(this, 'worker-added', w, w.discovered ? `found in DNS (${w.discovered})` : 'added at run time');
    return w;
  }

  /**
   * Takes a worker out of the balancer (DNS discovery, once its address is gone and it is drained).
   * Refused (false) while it has anything in flight: its requests must release it first.
   */
  removeWorker(w: Worker, reason: string): boolean {
    const i = this.workers.indexOf(w);
    if (i === -1 || w.busy > 0) return false;
    this.workers.splice(i, 1);
    if (w.discovered !== undefined) this.#discovered--;
    this.selector.workerRemoved(w);
    this.#notify();
    emitWorkerEvent(this, 'worker-removed', w, reason);
    return true;
  }

  /**
   * Counts a request on the worker; call synchronously right after selecting it. An upgrade counts
   * as busy (bybusyness sees it) but takes an upgrade slot instead of one of `max`.
   */
  acquire(w: Worker, kind: 'request' | 'upgrade' = 'request'): void {
    w.busy++;
    let full = false;
    if (kind === 'upgrade') {
      w.upgrades++;
      this.upgrades++;
    } else {
      // Reaching max takes it out of the election ('full'); leaving it (release) brings it back.
      full = w.busy - w.upgrades === w.max;
    }
    this.selector.countersChanged(w, full);
  }

  /**
   * Ends one acquire of the same kind: exactly once per acquire, on every path. Publishes the outcome;
   * a request's timings go to a scheduler that learns from latency.
   */
  release(w: Worker, outcome: Outcome, method: string, kind: 'request' | 'upgrade' = 'request'): void {
    w.busy--;
    let full = false;
    if (kind === 'upgrade') {
      w.upgrades--;
      this.upgrades--;
    } else full = w.busy - w.upgrades === w.max - 1;
    w.transferred += outcome.transferred;
    w.read += outcome.read;
    this.selector.countersChanged(w, full);
    if (kind === 'request') this.selector.attemptEnded(w, outcome);
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
}
