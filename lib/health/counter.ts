import type { HealthCheckSpec } from '../config/health-spec.js';

/** Checks in a row since the last opposite result. */
export interface HealthCounts {
  fails: number;
  passes: number;
}

/**
 * Consecutive counting (Apache counts since the last transition, so a pass between two failures
 * does not reset its count; we reset, like HAProxy rise/fall and Envoy's thresholds).
 * Failures count toward C unless C is already set; passes count toward recovery while the worker
 * has C or E. Returns the transition to apply, if any.
 */
export function countCheck(
  c: HealthCounts,
  ok: boolean,
  state: { hcFailed: boolean; inError: boolean },
  spec: Pick<HealthCheckSpec, 'fails' | 'passes'>,
): 'fail' | 'pass' | undefined {
  if (ok) {
    c.fails = 0;
    if (!state.hcFailed && !state.inError) {
      c.passes = 0;
      return undefined;
    }
    if (++c.passes < spec.passes) return undefined;
    c.passes = 0;
    return 'pass';
  }
  c.passes = 0;
  if (state.hcFailed) {
    c.fails = 0;
    return undefined;
  }
  if (++c.fails < spec.fails) return undefined;
  c.fails = 0;
  return 'fail';
}
