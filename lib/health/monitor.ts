import type { Balancer, WorkerStateEvent } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { WorkerEvent } from './events.js';
import { HealthChecker } from './checker.js';
import { HC_FAIL } from '../model/status.js';
import { OutlierDetector } from './outlier.js';
import { translateStateChange } from './events.js';
import { rampOnStateChange, rampWorker } from './slow-start.js';

/**
 * Everything health-related for one balancer: worker events from state changes, slow start, passive
 * ejection from 'attempt' events, and one active checker per worker with a health check (workers
 * added at run time included, stopped for workers removed). stop() removes every listener, timer and check socket.
 */
export class BalancerHealth {
  readonly balancer: Balancer;
  readonly outlier: OutlierDetector;
  readonly #checkers = new Map<Worker, HealthChecker>();
  /** Each worker's first check, for ready(): one entry per worker, however often its check is changed. */
  readonly #initial = new Map<Worker, Promise<unknown>>();
  #stopped = false;

  constructor(balancer: Balancer) {
    this.balancer = balancer;
    this.outlier = new OutlierDetector(balancer);
    balancer.on('statechange', this.#onStateChange);
    // Only with outlier detection: without 'attempt' listeners release() skips building the event.
    if (balancer.outlier) balancer.on('attempt', this.outlier.onAttempt);
    balancer.on('worker-added', this.#onAdded);
    balancer.on('health-check-changed', this.#onCheckChanged);
    balancer.on('worker-removed', this.#onRemoved);
    for (const w of balancer.workers) this.#watch(w);
  }

  /** The worker's active checker, if it has a health check. */
  checker(w: Worker): HealthChecker | undefined {
    return this.#checkers.get(w);
  }

  /** Settles when every hcbeforetraffic worker's first check has ended. */
  async ready(): Promise<void> {
    await Promise.all(this.#initial.values());
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (registry.get(this.balancer) === this) registry.delete(this.balancer);
    this.balancer.off('statechange', this.#onStateChange);
    this.balancer.off('attempt', this.outlier.onAttempt);
    this.balancer.off('worker-added', this.#onAdded);
    this.balancer.off('health-check-changed', this.#onCheckChanged);
    this.balancer.off('worker-removed', this.#onRemoved);
    for (const c of this.#checkers.values()) c.stop();
  }

  /** Settles when no check is in flight (after stop(): their sockets are gone). */
  async idle(): Promise<void> {
    await Promise.all([...this.#checkers.values()].map((c) => c.idle()));
  }

  #watch(w: Worker): void {
    if (!w.health || this.#checkers.has(w)) return;
    const checker = new HealthChecker(this.balancer, w, w.health);
    this.#checkers.set(w, checker);
    this.#initial.set(w, checker.start());
  }

  readonly #onStateChange = (e: WorkerStateEvent): void => {
    translateStateChange(this.balancer, e);
    rampOnStateChange(this.balancer, e);
  };

  /**
   * A new check starts afresh (counts at zero). A worker whose checks are turned off leaves C: with no
   * check left to clear it, it would stay out for good.
   */
  readonly #onCheckChanged = (e: WorkerEvent): void => {
    if (this.#stopped) return;
    this.#checkers.get(e.worker)?.stop();
    this.#checkers.delete(e.worker);
    if (!e.worker.health && e.worker.has(HC_FAIL))
      this.balancer.setFlag(e.worker, HC_FAIL, false, 'health checks turned off');
    this.#watch(e.worker);
  };

  readonly #onAdded = (e: WorkerEvent): void => {
    rampWorker(this.balancer, e.worker, 'added');
    if (!this.#stopped) this.#watch(e.worker);
  };

  readonly #onRemoved = (e: WorkerEvent): void => {
    this.#checkers.get(e.worker)?.stop();
    this.#checkers.delete(e.worker);
  };
}

const registry = new WeakMap<Balancer, BalancerHealth>();

/** Starts health handling for a balancer (once; later calls return the same instance until stopped). */
export function watchHealth(balancer: Balancer): BalancerHealth {
  let h = registry.get(balancer);
  if (!h) registry.set(balancer, (h = new BalancerHealth(balancer)));
  return h;
}

/** The balancer's health handling, if watchHealth() started it. */
export function healthOf(balancer: Balancer): BalancerHealth | undefined {
  return registry.get(balancer);
}
