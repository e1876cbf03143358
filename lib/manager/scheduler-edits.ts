import type { BalancerEdit } from '../balancer/admin.js';
import { parseBalanceFactor, parseBias, parseHashKey, parsePanic } from '../config/scheduler-options.js';
import { ConfigError } from '../errors.js';
import { ManagerError } from './types.js';
import type { Fields } from './body.js';

/** The scheduler settings' manager fields: form name, JSON name. */
export const SCHEDULER_FORM_FIELDS = ['b_hk', 'b_hbf', 'b_p2cb', 'b_ewd', 'b_pnc'] as const;
export const SCHEDULER_JSON_FIELDS = ['hashkey', 'hashbalancefactor', 'p2cbias', 'ewmadecayMs', 'panic'] as const;

/** A number from a form ("1.5") or JSON (1.5). */
function num(v: unknown): unknown {
  return typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v;
}

/** Runs a config parser and answers 400 naming the manager field, with the config's wording. */
function checked<T>(field: string, v: unknown, parse: (field: string, v: unknown) => T): T {
  try {
    return parse(field, v);
  } catch (err) {
    if (err instanceof ConfigError) throw new ManagerError('ERR_MANAGER_INVALID', 400, err.message, field);
    throw err;
  }
}

function ewmadecay(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 3_600_000) {
    throw new ConfigError(field, v, 'is not an integer in 1..3600000 (ms)');
  }
  return v;
}

/** Adds the scheduler settings among `names` (form or JSON names, in the order above) to `e`. */
export function schedulerEdit(f: Fields, names: readonly string[], e: BalancerEdit): void {
  const [hk, hbf, bias, decay, panic] = names as [string, string, string, string, string];
  if (f[hk] !== undefined) e.hashkey = checked(hk, f[hk], parseHashKey);
  if (f[hbf] !== undefined) e.hashbalancefactor = checked(hbf, num(f[hbf]), parseBalanceFactor);
  if (f[bias] !== undefined) e.p2cbias = checked(bias, num(f[bias]), parseBias);
  if (f[decay] !== undefined) e.ewmadecayMs = checked(decay, num(f[decay]), ewmadecay);
  if (f[panic] !== undefined) e.panic = checked(panic, num(f[panic]), parsePanic);
}
