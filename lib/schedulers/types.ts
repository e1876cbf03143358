import type { Worker } from '../core/worker.js';
import type { RandomSource } from '../core/clock.js';

/**
 * Ranks candidates. The balancer's generic election has already applied tiers, spares, standbys,
 * draining and error retry: `candidates` are usable, in election order, never empty. `pick` must be
 * synchronous and return one of them; it may update the workers' scheduler counters (lbstatus).
 */
export interface Scheduler {
  pick(candidates: readonly Worker[]): Worker;
  /** Forget scheduler state (lbmethod changed, manager reset). */
  reset?(workers: readonly Worker[]): void;
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
