import type { Worker } from '../core/worker.js';
import type { RandomSource } from '../model/clock.js';
import type { CandidateGroup } from './group.js';

/**
 * Ranks candidates. The selector has already applied tiers, spares, standbys, draining and error
 * retry: `candidates` are usable, in election order, never empty. `pick` must be synchronous and
 * return one of them; it may update the workers' scheduler counter (lbstatus).
 */
export interface Scheduler {
  pick(candidates: readonly Worker[]): Worker;
  /** Forget scheduler state (lbmethod changed, manager reset). */
  reset?(workers: readonly Worker[]): void;

  // Optional, for schedulers that keep a structure over the candidates (the built-ins do) so a pick
  // need not visit every worker. A scheduler without them gets pick() for every selection.

  /**
   * Like pick, for the election's cached group: the same CandidateGroup object, with the same
   * workers and weights, for as long as nothing that decides the candidates changes (a new object
   * then). pick() may be called in between with other arrays (a retry's avoid set, a slow-start ramp).
   */
  pickCached?(group: CandidateGroup): Worker;
  /** A worker's busy, transferred or read counter changed (acquire, release). */
  countersChanged?(w: Worker): void;
  /**
   * Apache's sticky accounting when the usable workers are `group` (a cached group) plus others the
   * caller credits itself: each of `group` += lbfactor, `routed` −= total. False if not done (the
   * caller then does it worker by worker).
   */
  chargeSticky?(group: CandidateGroup, routed: Worker, total: number): boolean;
  /** w's credit, for a scheduler that keeps it somewhere else than w.lbstatus (the manager shows it). */
  lbstatus?(w: Worker): number;
  /** Writes every credit kept elsewhere back into lbstatus; called before anyone else writes it. */
  settle?(): void;
}

export interface SchedulerContext {
  /** Injected randomness, for schedulers that draw. */
  random: RandomSource;
  /** Injected clock, for schedulers that measure time. */
  now(): number;
}

/** Builds one scheduler instance per balancer. */
export type SchedulerFactory = (ctx: SchedulerContext) => Scheduler;

/** Identity helper that gives scheduler authors types at no cost. */
export function defineScheduler(factory: SchedulerFactory): SchedulerFactory {
  return factory;
}
