import type { Balancer, WorkerStateEvent } from '../balancer/balancer.js';
import { log } from '../debug.js';
import type { Worker } from '../core/worker.js';
import type { WorkerEvent } from '../health/events.js';
import type {
  InstanceCounters,
  PersistedBalancer,
  SharedStateStore,
  SharedWorkerState,
  StateStore,
} from '../model/store.js';
import { isSharedStore } from '../model/store.js';
import { applyPersisted, toPersisted } from '../balancer/admin.js';
import { HC_FAIL, IN_ERROR } from '../model/status.js';
import { statusBits } from '../health/events.js';

/** One instance's counters for one worker, as the manager shows them. */
export interface InstanceRow {
  instance: string;
  /** This process. */
  self: boolean;
  /** ISO 8601 time of the figures. */
  updatedAt: string;
  elected: number;
  transferred: number;
  read: number;
  busy: number;
}

export interface ClusterOptions {
  /** How often this instance publishes its counters. Default 1000 ms. */
  countersIntervalMs?: number;
}

const SHARED_BITS = IN_ERROR | HC_FAIL;

/**
 * Keeps the balancers of one process in step with the other instances through a shared store:
 * applies admin changes and worker health states others wrote, writes this process's own health
 * transitions (E with its time and ejection window, C with the check's verdict) and publishes its
 * counters. Everything runs off events and timers; the request path only emits the events it
 * always emitted, and a write is queued, never awaited.
 */
export class ClusterSync {
  readonly store: SharedStateStore;
  readonly balancers: readonly Balancer[];
  readonly #intervalMs: number;
  readonly #undo: (() => void)[] = [];
  /** Last state shared for each worker (written here or received). */
  readonly #known = new WeakMap<Worker, SharedWorkerState>();
  /** The health check verdict that last changed C here, for the record. */
  readonly #checks = new WeakMap<Worker, SharedWorkerState['check']>();
  /** States for workers another instance added and this one has not yet. */
  readonly #early = new Map<Balancer, Map<string, SharedWorkerState>>();
  readonly #dirty = new Map<Balancer, Set<Worker>>();
  #flushScheduled = false;
  #applying = 0;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopped = false;

  constructor(store: SharedStateStore, balancers: readonly Balancer[], options: ClusterOptions = {}) {
    this.store = store;
    this.balancers = balancers;
    this.#intervalMs = options.countersIntervalMs ?? 1000;
    for (const b of balancers) registry.set(b, this);
  }

  /**
   * Starts sharing (after stored admin state is applied): this state becomes the base later saves
   * are compared to, watchers are registered, stored health states are applied when they arrive.
   */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    for (const b of this.balancers) {
      this.store.seed(b.name, toPersisted(b));
      this.#undo.push(this.store.watch(b.name, (s) => this.#applyAdmin(b, s)));
      this.#undo.push(this.store.watchWorkerStates(b.name, (w, s) => this.#applyWorker(b, w, s, false)));
      const onState = (e: WorkerStateEvent): void => this.#onStateChange(b, e);
      const onCheck = (e: WorkerEvent): void => this.#onCheck(e);
      const onAdded = (e: WorkerEvent): void => this.#onAdded(b, e.worker);
      b.on('statechange', onState);
      b.on('health-failed', onCheck);
      b.on('health-passed', onCheck);
      b.on('worker-added', onAdded);
      this.#undo.push(() => {
        b.off('statechange', onState);
        b.off('health-failed', onCheck);
        b.off('health-passed', onCheck);
        b.off('worker-added', onAdded);
      });
      this.store.loadWorkerStates(b.name).then(
        (states) => {
          for (const [w, s] of states) this.#applyWorker(b, w, s, true);
        },
        (err: unknown) => log.cluster('%s: stored health states not loaded: %s', b.id, (err as Error).message),
      );
    }
    this.#publishCounters();
    this.#timer = setInterval(() => this.#publishCounters(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const undo of this.#undo.splice(0)) undo();
    for (const b of this.balancers) if (registry.get(b) === this) registry.delete(b);
  }

  /** Per-instance counters of one worker (this process's row live), sorted by instance id. */
  rows(b: Balancer, w: Worker): InstanceRow[] {
    const me = this.store.instanceId;
    const out: InstanceRow[] = [];
    for (const c of this.store.counters(b.name)) {
      if (c.instance === me) continue;
      const x = c.workers[w.name];
      if (x) out.push({ instance: c.instance, self: false, updatedAt: new Date(c.time).toISOString(), ...x });
    }
    out.push({
      instance: me,
      self: true,
      updatedAt: new Date().toISOString(),
      elected: w.elected,
      transferred: w.transferred,
      read: w.read,
      busy: w.busy,
    });
    return out.sort((a, c) => (a.instance < c.instance ? -1 : a.instance > c.instance ? 1 : 0));
  }

  // ---------------------------------------------------------------- from the other instances

  #applyAdmin(b: Balancer, s: PersistedBalancer): void {
    const factors = b.workers.map((w) => w.lbfactor);
    this.#applying++;
    try {
      applyPersisted(b, s);
      // As after a manager edit (Apache's recalc_factors): a changed loadfactor restarts the credits.
      if (b.workers.some((w, i) => factors[i] !== undefined && factors[i] !== w.lbfactor)) b.recalcFactors();
    } finally {
      this.#applying--;
    }
    log.cluster('%s: applied admin state version %d from another instance', b.id, s.version);
  }

  #applyWorker(b: Balancer, name: string, s: SharedWorkerState, initial: boolean): void {
    const w = b.worker(name);
    if (!w) {
      let early = this.#early.get(b);
      if (!early) this.#early.set(b, (early = new Map<string, SharedWorkerState>()));
      early.set(name, s);
      return;
    }
    this.#known.set(w, s);
    const reason = s.check
      ? `shared state (${s.check.instance}: ${s.check.reason})`
      : 'shared state from another instance';
    this.#applying++;
    try {
      // At start-up this process's own first check decides whether to clear C (hcbeforetraffic).
      if (s.hcFailed !== w.has(HC_FAIL) && !(initial && !s.hcFailed)) b.setFlag(w, HC_FAIL, s.hcFailed, reason);
      const live = s.inError && b.clock.now() < s.errorTime + (s.ejectionMs ?? w.retryMs);
      if (live) {
        if (!w.inError || w.errorTime !== s.errorTime) b.adoptError(w, s.errorTime, s.ejectionMs, reason);
      } else if (!s.inError && w.inError) {
        b.setFlag(w, IN_ERROR, false, reason);
      }
    } finally {
      this.#applying--;
    }
  }

  #onAdded(b: Balancer, w: Worker): void {
    const s = this.#early.get(b)?.get(w.name);
    if (!s) return;
    this.#early.get(b)?.delete(w.name);
    this.#applyWorker(b, w.name, s, false);
  }

  // ---------------------------------------------------------------- to the other instances

  #onCheck(e: WorkerEvent): void {
    this.#checks.set(e.worker, {
      ok: e.type === 'health-passed',
      reason: e.reason,
      time: e.time,
      instance: this.store.instanceId,
    });
  }

  #onStateChange(b: Balancer, e: WorkerStateEvent): void {
    if (this.#applying > 0 || this.#stopped) return;
    const from = statusBits(e.from);
    const to = statusBits(e.to);
    const changed = (from ^ to) & SHARED_BITS;
    if (changed === 0) return;
    const w = b.worker(e.worker);
    if (!w) return;
    // E ending because its retry time passed happens on every instance alike: nothing to tell.
    if (changed === IN_ERROR && !(to & IN_ERROR) && this.#expired(b, w)) return;
    let set = this.#dirty.get(b);
    if (!set) this.#dirty.set(b, (set = new Set()));
    set.add(w);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // After the current call stack: a check's C and E changes become one record.
    setImmediate(() => this.#flush());
  }

  #expired(b: Balancer, w: Worker): boolean {
    const k = this.#known.get(w);
    const errorTime = k?.inError ? k.errorTime : w.errorTime;
    const window = k?.inError ? (k.ejectionMs ?? w.retryMs) : w.retryMs;
    return b.clock.now() >= errorTime + window;
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#stopped) return;
    for (const [b, workers] of this.#dirty) {
      for (const w of workers) {
        const s: SharedWorkerState = { inError: w.inError, errorTime: w.errorTime, hcFailed: w.has(HC_FAIL) };
        if (w.inError && w.ejectionMs !== undefined) s.ejectionMs = w.ejectionMs;
        const check = this.#checks.get(w);
        if (check) s.check = check;
        this.#known.set(w, s);
        this.store.saveWorkerState(b.name, w.name, s);
      }
    }
    this.#dirty.clear();
  }

  #publishCounters(): void {
    const time = Date.now();
    for (const b of this.balancers) {
      const workers: InstanceCounters['workers'] = {};
      for (const w of b.workers) {
        workers[w.name] = { elected: w.elected, transferred: w.transferred, read: w.read, busy: w.busy };
      }
      this.store.publishCounters(b.name, { instance: this.store.instanceId, time, workers });
    }
  }
}

const registry = new WeakMap<Balancer, ClusterSync>();

/** The cluster sync a balancer belongs to, if its store is shared. */
export function clusterOf(b: Balancer): ClusterSync | undefined {
  return registry.get(b);
}

/** A ClusterSync when the store is shared between processes (RedisStore), else undefined. */
export function attachCluster(
  store: StateStore,
  balancers: readonly Balancer[],
  options?: ClusterOptions,
): ClusterSync | undefined {
  return isSharedStore(store) ? new ClusterSync(store, balancers, options) : undefined;
}
