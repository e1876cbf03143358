import type { Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { HealthCheckSpec } from '../config/health-spec.js';
import { HC_FAIL, IN_ERROR } from '../model/status.js';
import { countCheck, type HealthCounts } from './counter.js';
import { emitWorkerEvent } from './events.js';
import { failed, type CheckResult } from './result.js';
import { probe } from './probe.js';
import { log } from '../debug.js';

/** Later checks come every interval plus up to this share of it, so members drift apart. */
const JITTER = 0.1;

/**
 * The active check of one worker: its own timer on the balancer's clock, one check at a time (the
 * next is armed only when the last has ended, so checks never overlap however slow the worker is),
 * a deadline per check, and the consecutive counters that set and clear C.
 */
export class HealthChecker {
  readonly balancer: Balancer;
  readonly worker: Worker;
  readonly spec: HealthCheckSpec;
  readonly counts: HealthCounts = { fails: 0, passes: 0 };
  /** Checks run so far. */
  checks = 0;
  lastResult: CheckResult | undefined;
  /** Clock time the last check ended (0 = none yet). */
  lastTime = 0;
  #timer: unknown;
  #running: Promise<CheckResult | undefined> | undefined;
  #abort: AbortController | undefined;
  #stopped = false;
  #initial = false;

  constructor(balancer: Balancer, worker: Worker, spec: HealthCheckSpec) {
    this.balancer = balancer;
    this.worker = worker;
    this.spec = spec;
  }

  /** Arms the first check: at once for hcbeforetraffic (the worker waits with C), else spread over one interval. */
  start(): Promise<CheckResult | undefined> {
    if (this.spec.beforeTraffic) {
      this.#initial = true;
      this.balancer.setFlag(this.worker, HC_FAIL, true, 'waiting for its first health check');
      return this.check();
    }
    this.#arm(Math.floor(this.balancer.random() * this.spec.intervalMs));
    return Promise.resolve(undefined);
  }

  /** Runs a check now unless one is running (then that one's result); the timer restarts after it. */
  check(): Promise<CheckResult | undefined> {
    if (this.#stopped) return Promise.resolve(undefined);
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** True while a check is in flight. */
  get running(): boolean {
    return this.#running !== undefined;
  }

  /** Settles when no check is in flight. */
  async idle(): Promise<void> {
    await this.#running;
  }

  /** Stops the timer and aborts a check in flight (its socket is destroyed). */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
    this.#abort?.abort();
  }

  async #run(): Promise<CheckResult | undefined> {
    this.#disarm();
    // Apache skips stopped members; the timer keeps running so a later un-stop resumes checks.
    if (this.worker.stopped) {
      this.#arm(this.#nextDelay());
      return undefined;
    }
    const result = await this.#probe();
    if (this.#stopped) return result;
    this.checks++;
    this.lastResult = result;
    this.lastTime = this.balancer.clock.now();
    log.health(
      '%s %s check %s: %s',
      this.balancer.id,
      this.worker.name,
      result.ok ? 'passed' : 'failed',
      result.reason,
    );
    this.#apply(result);
    this.#arm(this.#nextDelay());
    return result;
  }

  async #probe(): Promise<CheckResult> {
    const abort = new AbortController();
    this.#abort = abort;
    const clock = this.balancer.clock;
    const deadline = clock.setTimeout(() => abort.abort(), this.spec.timeoutMs);
    try {
      return await probe(this.worker, this.spec, abort.signal);
    } catch (err) {
      return failed(`check error: ${(err as Error).message}`);
    } finally {
      clock.clearTimeout(deadline);
      this.#abort = undefined;
    }
  }

  #apply(result: CheckResult): void {
    const w = this.worker;
    const state = { hcFailed: w.has(HC_FAIL), inError: w.inError };
    // hcbeforetraffic: the first check alone decides whether the worker starts in service.
    const initial = this.#initial;
    this.#initial = false;
    if (initial && !result.ok) {
      // C is already set: the worker simply stays out until hcpasses checks pass.
      emitWorkerEvent(this.balancer, 'health-failed', w, `first health check failed: ${result.reason}`);
      return;
    }
    const transition = initial ? 'pass' : countCheck(this.counts, result.ok, state, this.spec);
    if (transition === 'fail') this.#fail(result);
    else if (transition === 'pass') this.#pass(result, initial);
  }

  #fail(result: CheckResult): void {
    const n = this.spec.fails;
    const reason = `${n} failed health check${n > 1 ? 's in a row' : ''}: ${result.reason}`;
    this.balancer.setFlag(this.worker, HC_FAIL, true, reason);
    emitWorkerEvent(this.balancer, 'health-failed', this.worker, reason);
  }

  #pass(result: CheckResult, initial: boolean): void {
    const n = this.spec.passes;
    const reason = initial
      ? `first health check passed: ${result.reason}`
      : `${n} passed health check${n > 1 ? 's in a row' : ''}: ${result.reason}`;
    // Cause before effect: health-passed, then the worker-recovered that clearing the flags emits.
    emitWorkerEvent(this.balancer, 'health-passed', this.worker, reason);
    this.balancer.setFlag(this.worker, HC_FAIL, false, reason);
    this.balancer.setFlag(this.worker, IN_ERROR, false, reason);
  }

  #nextDelay(): number {
    return this.spec.intervalMs + Math.floor(this.balancer.random() * this.spec.intervalMs * JITTER);
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.balancer.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.check();
    }, ms);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.balancer.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
