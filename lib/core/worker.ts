import type { MemberSpec } from '../config/spec.js';
import type { WorkerTlsOptions } from '../config/options.js';
import type { HealthCheckSpec } from '../config/health-spec.js';
import type { Ramp } from './ramp.js';
import { HOT_SPARE, HOT_STANDBY, DRAIN, IGNORE_ERRORS, IN_ERROR, STOPPED, isUsableStatus } from '../model/status.js';

/** Told about every change that can change an election's result (the selector's cache), and route changes. */
export interface WorkerObserver {
  workerChanged(w: Worker, tiers: boolean): void;
  /** The worker's route changed (the selector's route index). */
  routeChanged(w: Worker): void;
}

/**
 * One backend (Apache's proxy_worker). Plain data plus counters; it does no I/O. Admin changes go
 * through Balancer methods so the balancer can emit events; the fields an election depends on
 * (status, lbset, lbfactor, route, the slow-start ramp) are accessors that tell the selector
 * whoever writes them, so its cached election can never outlive a change.
 */
export class Worker {
  readonly name: string;
  readonly url: URL;
  readonly basePath: string;
  /** Where to connect: host name or address (IPv6 without brackets), port, and whether over TLS. */
  readonly address: string;
  readonly port: number;
  /** host[:port] as the Host header names the worker (url.host, computed once). */
  readonly host: string;
  readonly secure: boolean;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly max: number;
  readonly maxupgrades: number;
  readonly tls: WorkerTlsOptions | undefined;
  /** Active health check settings (undefined: not checked). Change it through Balancer.setHealthCheck. */
  health: HealthCheckSpec | undefined;
  /** The DNS name of the discovery group that added it; undefined for other workers. */
  readonly discovered: string | undefined;

  redirect: string;
  retryMs: number;
  /** Clock time the worker last entered error state (0 = never). */
  errorTime = 0;
  /** Times the worker was taken out of error state for a retry. */
  retries = 0;

  /** Times chosen (Apache "Elected"). */
  elected = 0;
  /** Requests in flight, response streaming included, and open upgraded connections. */
  busy = 0;
  /** Open upgraded connections (WebSockets), also counted in busy. */
  upgrades = 0;
  /** Bytes sent to the worker. */
  transferred = 0;
  /** Bytes read from the worker. */
  read = 0;
  /** Retry window of the current error period set by an outlier ejection (else retryMs applies). */
  ejectionMs: number | undefined;

  /**
   * Scheduler credit (byrequests, bybusyness): what a scheduler that keeps it here reads and
   * writes. A built-in scheduler may keep it in its own structure between picks; the current value
   * is then `balancer.lbstatus(w)`, and writes from outside go through `balancer.setLbstatus()`.
   */
  lbstatus = 0;

  /** The owning balancer's selector, told about changes (set by the Balancer). @internal */
  observer: WorkerObserver | undefined;

  #route: string;
  #lbfactor: number;
  #lbset: number;
  #status: number;
  #ramp: Ramp | undefined;
  #rampFactor = 1;

  constructor(spec: MemberSpec) {
    this.name = spec.name;
    this.url = spec.url;
    this.basePath = spec.basePath;
    this.secure = spec.url.protocol === 'https:';
    this.address = spec.url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(spec.url.port) || (this.secure ? 443 : 80);
    this.host = spec.url.host;
    this.connectTimeoutMs = spec.connectTimeoutMs;
    this.timeoutMs = spec.timeoutMs;
    this.max = spec.max;
    this.maxupgrades = spec.maxupgrades;
    this.tls = spec.tls;
    this.health = spec.health;
    this.discovered = spec.discovered;
    this.#lbfactor = spec.lbfactor;
    this.#lbset = spec.lbset;
    this.#route = spec.route;
    this.redirect = spec.redirect;
    this.retryMs = spec.retryMs;
    this.#status = spec.status;
  }

  /** Session route this worker answers to ("" = none). */
  get route(): string {
    return this.#route;
  }
  set route(v: string) {
    this.#route = v;
    this.observer?.routeChanged(this);
  }

  /** loadfactor × 100, as Apache keeps it. */
  get lbfactor(): number {
    return this.#lbfactor;
  }
  set lbfactor(v: number) {
    this.#lbfactor = v;
    this.observer?.workerChanged(this, false);
  }

  get lbset(): number {
    return this.#lbset;
  }
  set lbset(v: number) {
    this.#lbset = v;
    this.observer?.workerChanged(this, true);
  }

  /** Status bitmap; see model/status.ts. */
  get status(): number {
    return this.#status;
  }
  set status(v: number) {
    this.#status = v;
    this.observer?.workerChanged(this, false);
  }

  /** Slow-start ramp in progress, or undefined (lib/core/ramp.ts). */
  get ramp(): Ramp | undefined {
    return this.#ramp;
  }
  set ramp(v: Ramp | undefined) {
    this.#ramp = v;
    this.observer?.workerChanged(this, false);
  }

  /** Share of lbfactor the ramp allows (1 = full); refreshed by the election. */
  get rampFactor(): number {
    return this.#rampFactor;
  }
  set rampFactor(v: number) {
    this.#rampFactor = v;
    this.observer?.workerChanged(this, false);
  }

  /** The weight schedulers use: lbfactor, or less while a slow-start ramp is active (never below 1). */
  get weight(): number {
    return this.#rampFactor >= 1 ? this.#lbfactor : Math.max(1, Math.round(this.#lbfactor * this.#rampFactor));
  }

  /** How long the current error period lasts: an outlier ejection's time, else retry. */
  get errorRetryMs(): number {
    return this.ejectionMs ?? this.retryMs;
  }

  /** Every `max` slot is taken by requests in flight (open upgrades have their own limit). */
  get full(): boolean {
    return this.busy - this.upgrades >= this.max;
  }

  isUsable(): boolean {
    return isUsableStatus(this.#status);
  }

  has(bit: number): boolean {
    return (this.#status & bit) !== 0;
  }

  get inError(): boolean {
    return (this.#status & IN_ERROR) !== 0;
  }
  get ignoresErrors(): boolean {
    return (this.#status & IGNORE_ERRORS) !== 0;
  }
  get stopped(): boolean {
    return (this.#status & STOPPED) !== 0;
  }
  get draining(): boolean {
    return (this.#status & DRAIN) !== 0;
  }
  get standby(): boolean {
    return (this.#status & HOT_STANDBY) !== 0;
  }
  get spare(): boolean {
    return (this.#status & HOT_SPARE) !== 0;
  }
  /** loadfactor as configured (1..100, two decimals). */
  get loadfactor(): number {
    return this.#lbfactor / 100;
  }
}
