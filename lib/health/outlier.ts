import type { AttemptEvent, Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { Outcome } from '../forward/outcome.js';
import type { OutlierSpec } from '../config/health-spec.js';
import { HC_FAIL } from '../model/status.js';
import { emitWorkerEvent } from './events.js';
import { log } from '../debug.js';

interface OutlierState {
  /** Failed attempts in a row. */
  run: number;
  /** Ejections so far, minus one per base ejection time spent healthy since the last one ended. */
  ejections: number;
  /** When the last ejection ends (or ended). */
  lastEnd: number;
}

/** Failure (with its words), success, or neither (the client left; a stale keep-alive socket). */
export function classify(outcome: Outcome, statuses: ReadonlySet<number>): { failure: string } | 'success' | 'neutral' {
  switch (outcome.kind) {
    case 'connect-failed':
      return { failure: 'connect failed' };
    case 'failed':
      return { failure: `no answer: ${outcome.error.message}` };
    case 'timeout':
      return { failure: 'response timeout' };
    case 'truncated':
      if (outcome.timedOut) return { failure: 'response timeout mid-body' };
      return statuses.has(outcome.status) ? { failure: `status ${outcome.status}` } : 'success';
    case 'completed':
      return statuses.has(outcome.status) ? { failure: `status ${outcome.status}` } : 'success';
    default:
      return 'neutral';
  }
}

/**
 * Passive ejection from the balancer's 'attempt' events (Envoy's consecutive-failure outlier
 * detection). A worker failing `consecutiveFailures` attempts in a row goes into error state for
 * base × n (n = its ejection count, capped at the max), unless that would take more than
 * maxEjectionPercent of the balancer out at once (panic floor: then it keeps serving).
 */
export class OutlierDetector {
  readonly #balancer: Balancer;
  readonly #state = new WeakMap<Worker, OutlierState>();

  constructor(balancer: Balancer) {
    this.#balancer = balancer;
  }

  readonly onAttempt = (e: AttemptEvent): void => {
    const spec = this.#balancer.outlier;
    // Attempts that end while the worker is already out say nothing new about it.
    if (!spec || e.worker.inError || e.worker.has(HC_FAIL)) return;
    const verdict = classify(e.outcome, spec.failureStatuses);
    if (verdict === 'neutral') return;
    const s = this.#stateOf(e.worker);
    if (verdict === 'success') {
      s.run = 0;
      return;
    }
    if (++s.run >= spec.consecutiveFailures) this.#eject(e.worker, s, spec, verdict.failure);
  };

  /** The worker's ejection count as it stands (for tests and the manager). */
  ejections(w: Worker): number {
    return this.#state.get(w)?.ejections ?? 0;
  }

  #stateOf(w: Worker): OutlierState {
    let s = this.#state.get(w);
    if (!s) this.#state.set(w, (s = { run: 0, ejections: 0, lastEnd: 0 }));
    return s;
  }

  #eject(w: Worker, s: OutlierState, spec: OutlierSpec, last: string): void {
    if (w.ignoresErrors || w.stopped) return;
    const b = this.#balancer;
    const now = b.clock.now();
    if (!this.#roomFor(w, spec, now)) {
      log.health(
        '%s %s: %d failures in a row, not ejected: %d%% of the workers are out already (panic floor)',
        b.id,
        w.name,
        s.run,
        spec.maxEjectionPercent,
      );
      return;
    }
    if (s.ejections > 0 && now > s.lastEnd) {
      s.ejections = Math.max(0, s.ejections - Math.floor((now - s.lastEnd) / spec.baseEjectionMs));
    }
    s.ejections++;
    const ms = Math.min(spec.baseEjectionMs * s.ejections, spec.maxEjectionMs);
    s.lastEnd = now + ms;
    const reason = `${s.run} failures in a row (last: ${last}): ejected for ${ms} ms (ejection ${s.ejections})`;
    s.run = 0;
    b.eject(w, ms, reason);
    emitWorkerEvent(b, 'worker-ejected', w, reason);
  }

  /** True if ejecting `w` keeps the workers out for health reasons within maxEjectionPercent. */
  #roomFor(w: Worker, spec: OutlierSpec, now: number): boolean {
    const all = this.#balancer.workers;
    let out = 0;
    for (const o of all) {
      if (o === w) continue;
      if (o.has(HC_FAIL) || (o.inError && now < o.errorTime + o.errorRetryMs)) out++;
    }
    return out + 1 <= Math.floor((all.length * spec.maxEjectionPercent) / 100);
  }
}
