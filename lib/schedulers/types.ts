import type { RandomSource } from '../model/clock.js';
import type { CandidateGroup } from './group.js';

/**
 * What a scheduler sees of a worker: the fields it ranks on and the credit it may write. The
 * balancer hands it Workers (which have these and more) and gets the same Worker back, because
 * every method is generic over the candidates' own type.
 */
export interface Candidate {
  /** Unique within a balancer ("http://10.0.0.1:8080/app"); hash keys are placed by it. */
  readonly name: string;
  /** The configured weight × 100 (loadfactor 1.5 → 150). */
  readonly lbfactor: number;
  /** The weight to use: lbfactor, or less during a slow-start ramp (never below 1). */
  readonly weight: number;
  /** Requests in flight. */
  readonly busy: number;
  /** Bytes sent to / read from the worker (bytraffic's reset zeroes them, as Apache does). */
  transferred: number;
  read: number;
  /** The scheduler's credit. */
  lbstatus: number;
  /** The slow-start ramp in progress (a new object per ramp, so it can be told apart), or undefined. */
  readonly ramp: object | undefined;
}

/** What an attempt on a worker came to, for schedulers that learn from it (Scheduler.observe). */
export interface AttemptObservation {
  /** From sending the request to its response head, or to the failure. */
  latencyMs: number;
  /** No response: not connected, timed out, reset or closed before the head. */
  failed: boolean;
}

/**
 * Ranks candidates. The selector has already applied tiers, spares, standbys, draining and error
 * retry: `candidates` are usable, in election order, never empty. `pick` must be synchronous and
 * return one of them; it may update the workers' scheduler counter (lbstatus).
 */
export interface Scheduler {
  /** `key`: the request's hash key (the balancer's `hashkey`), undefined when it has none or none is set. */
  pick<C extends Candidate>(candidates: readonly C[], key?: string): C;
  /** Forget scheduler state (lbmethod changed, manager reset). */
  reset?(workers: readonly Candidate[]): void;

  // Optional, for schedulers that keep a structure over the candidates (the built-ins do) so a pick
  // need not visit every worker. A scheduler without them gets pick() for every selection.

  /**
   * Like pick, for the election's cached group: the same CandidateGroup object, with the same
   * workers and weights, for as long as nothing that decides the candidates changes (a new object
   * then). pick() may be called in between with other arrays (a retry's avoid set, a slow-start ramp).
   */
  pickCached?<C extends Candidate>(group: CandidateGroup<C>, key?: string): C;
  /** A worker's busy, transferred or read counter changed (acquire, release). */
  countersChanged?(w: Candidate): void;
  /** An attempt on w ended: its response-head latency, or a failure (requests only, not upgrades). */
  observe?(w: Candidate, attempt: AttemptObservation): void;
  /**
   * Apache's sticky accounting when the usable workers are `group` (a cached group) plus others the
   * caller credits itself: each of `group` += lbfactor, `routed` −= total. False if not done (the
   * caller then does it worker by worker).
   */
  chargeSticky?<C extends Candidate>(group: CandidateGroup<C>, routed: C, total: number): boolean;
  /** w's credit, for a scheduler that keeps it somewhere else than w.lbstatus (the manager shows it). */
  lbstatus?(w: Candidate): number;
  /** Writes every credit kept elsewhere back into lbstatus; called before anyone else writes it. */
  settle?(): void;
}

/** The balancer settings the built-in schedulers read on every pick, so edits apply at once. */
export interface SchedulerOptions {
  /** p2c: how much requests in flight count against the weight (Envoy's active_request_bias). */
  readonly p2cbias: number;
  /** ewma: the latency average forgets over this many milliseconds. */
  readonly ewmadecayMs: number;
  /** hash: no worker takes more than this percent of the average in flight (0: no bound). */
  readonly hashbalancefactor: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = Object.freeze({
  p2cbias: 1,
  ewmadecayMs: 10_000,
  hashbalancefactor: 125,
});

export interface SchedulerContext {
  /** Injected randomness, for schedulers that draw. */
  random: RandomSource;
  /** Injected clock, for schedulers that measure time. */
  now(): number;
  /** The balancer's settings for the built-in schedulers (their defaults when absent). */
  options?: SchedulerOptions;
}

/** Builds one scheduler instance per balancer. */
export type SchedulerFactory = (ctx: SchedulerContext) => Scheduler;

/** Identity helper that gives scheduler authors types at no cost. */
export function defineScheduler(factory: SchedulerFactory): SchedulerFactory {
  return factory;
}
