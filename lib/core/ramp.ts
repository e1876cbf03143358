import type { Worker } from './worker.js';
import type { SlowStartSpec } from '../config/health-spec.js';

/** One slow-start ramp: when it began and how it runs. A new object per ramp (schedulers key on it). */
export interface Ramp {
  start: number;
  spec: SlowStartSpec;
}

/**
 * Envoy's slow-start curve: max(floor, (elapsed / window)^(1 / aggression)). Linear with
 * aggression 1; the floor keeps a ramping worker from being starved completely.
 */
export function rampFactor(ramp: Ramp, now: number): number {
  const progress = Math.min(1, Math.max(0, (now - ramp.start) / ramp.spec.windowMs));
  return Math.max(ramp.spec.minWeightPercent / 100, progress ** (1 / ramp.spec.aggression));
}

/** Brings the worker's weight up to date; ends the ramp once the window is over. */
export function refreshRamp(w: Worker, now: number): void {
  if (!w.ramp) return;
  if (now - w.ramp.start >= w.ramp.spec.windowMs) {
    w.ramp = undefined;
    w.rampFactor = 1;
    return;
  }
  w.rampFactor = rampFactor(w.ramp, now);
}
