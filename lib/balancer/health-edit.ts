import type { Worker } from '../core/worker.js';
import type { PersistedHealthCheck } from '../model/store.js';
import type { HealthCheckSpec } from '../config/health-spec.js';
import {
  appliesTo,
  hcMethodOf,
  healthCheckOptions,
  type HealthOptions,
  HEALTH_MEMBER_KEYS,
  statusSetText,
  validateHealthCheck,
} from '../config/health.js';

/** The health-check settings an administrator may change (Apache's w_hm … w_he), in option form. */
export type HealthEdit = PersistedHealthCheck;

export const HEALTH_EDIT_KEYS = ['hcmethod', 'hcinterval', 'hcpasses', 'hcfails', 'hcuri', 'hcexpect'] as const;

/**
 * The worker's check after the edit, validated as config would be (throws its ConfigError, the field
 * being `worker.<option>`). Settings carried over from the current check that do not apply to a new
 * method are dropped (Apache: NONE and TCP clear the expression); settings given that do not apply
 * are refused.
 */
export function editedHealthCheck(w: Worker, edit: HealthEdit): HealthCheckSpec | undefined {
  const current: HealthOptions = w.health ? healthCheckOptions(w.health, w.basePath) : {};
  const method = hcMethodOf(edit.hcmethod) ?? w.health?.method ?? 'NONE';
  const merged: HealthOptions = {};
  for (const key of HEALTH_MEMBER_KEYS) {
    if (current[key] !== undefined && appliesTo(key, method)) Object.assign(merged, { [key]: current[key] });
  }
  Object.assign(merged, edit);
  return validateHealthCheck('worker', merged, w.basePath);
}

/** Two checks that run the same way (an unchanged form resubmitted must not restart the checker). */
export function sameHealthCheck(a: HealthCheckSpec | undefined, b: HealthCheckSpec | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.method === b.method &&
    a.intervalMs === b.intervalMs &&
    a.passes === b.passes &&
    a.fails === b.fails &&
    a.uri === b.uri &&
    statusSetText(a.expect) === statusSetText(b.expect) &&
    String(a.body) === String(b.body) &&
    a.timeoutMs === b.timeoutMs &&
    a.beforeTraffic === b.beforeTraffic
  );
}

/** The edited settings as the store keeps them (JSON values only). */
export function persistedHealth(spec: HealthCheckSpec | undefined, basePath: string): HealthEdit {
  if (!spec) return { hcmethod: 'NONE' };
  const o = healthCheckOptions(spec, basePath);
  const out: HealthEdit = { hcmethod: spec.method };
  for (const key of HEALTH_EDIT_KEYS) {
    const v = o[key];
    if (key !== 'hcmethod' && (typeof v === 'string' || typeof v === 'number')) Object.assign(out, { [key]: v });
  }
  return out;
}
