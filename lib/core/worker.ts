import type { MemberSpec } from '../config/spec.js';
import type { WorkerTlsOptions } from '../config/options.js';
import type { HealthCheckSpec } from '../health/spec.js';
import type { Ramp } from '../health/ramp.js';
import { HOT_SPARE, HOT_STANDBY, DRAIN, IGNORE_ERRORS, IN_ERROR, STOPPED, isUsableStatus } from './status.js';

/**
 * One backend (Apache's proxy_worker). Plain data plus counters; it does no I/O. Admin changes go
 * through Balancer methods so the balancer can invalidate caches and emit events.
 */
export class Worker {
  readonly name: string;
  readonly url: URL;
  readonly basePath: string;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly max: number;
  readonly tls: WorkerTlsOptions | undefined;
  /** Active health check settings (undefined: not checked). */
  readonly health: HealthCheckSpec | undefined;

  /** loadfactor × 100, as Apache keeps it. */
  lbfactor: number;
  lbset: number;
  route: string;
  redirect: string;
  retryMs: number;
  /** Status bitmap; see core/status.ts. */
  status: number;
  /** Clock time the worker last entered error state (0 = never). */
  errorTime = 0;
  /** Times the worker was taken out of error state for a retry. */
  retries = 0;

  /** Times chosen (Apache "Elected"). */
  elected = 0;
  /** Requests in flight, response streaming included. */
  busy = 0;
  /** Bytes sent to the worker. */
  transferred = 0;
  /** Bytes read from the worker. */
  read = 0;
  /** Scheduler credit (byrequests, bybusyness). */
  lbstatus = 0;
  /** Retry window of the current error period set by an outlier ejection (else retryMs applies). */
  ejectionMs: number | undefined;
  /** Slow-start ramp in progress, or undefined (lib/health/ramp.ts). */
  ramp: Ramp | undefined;
  /** Share of lbfactor the ramp allows (1 = full); refreshed by the election. */
  rampFactor = 1;

  constructor(spec: MemberSpec) {
    this.name = spec.name;
    this.url = spec.url;
    this.basePath = spec.basePath;
    this.connectTimeoutMs = spec.connectTimeoutMs;
    this.timeoutMs = spec.timeoutMs;
    this.max = spec.max;
    this.tls = spec.tls;
    this.health = spec.health;
    this.lbfactor = spec.lbfactor;
    this.lbset = spec.lbset;
    this.route = spec.route;
    this.redirect = spec.redirect;
    this.retryMs = spec.retryMs;
    this.status = spec.status;
  }

  /** The weight schedulers use: lbfactor, or less while a slow-start ramp is active (never below 1). */
  get weight(): number {
    return this.rampFactor >= 1 ? this.lbfactor : Math.max(1, Math.round(this.lbfactor * this.rampFactor));
  }

  /** How long the current error period lasts: an outlier ejection's time, else retry. */
  get errorRetryMs(): number {
    return this.ejectionMs ?? this.retryMs;
  }

  isUsable(): boolean {
    return isUsableStatus(this.status);
  }

  has(bit: number): boolean {
    return (this.status & bit) !== 0;
  }

  get inError(): boolean {
    return (this.status & IN_ERROR) !== 0;
  }
  get ignoresErrors(): boolean {
    return (this.status & IGNORE_ERRORS) !== 0;
  }
  get stopped(): boolean {
    return (this.status & STOPPED) !== 0;
  }
  get draining(): boolean {
    return (this.status & DRAIN) !== 0;
  }
  get standby(): boolean {
    return (this.status & HOT_STANDBY) !== 0;
  }
  get spare(): boolean {
    return (this.status & HOT_SPARE) !== 0;
  }
  /** loadfactor as configured (1..100, two decimals). */
  get loadfactor(): number {
    return this.lbfactor / 100;
  }
}
