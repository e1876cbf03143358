import type { HealthCheckSpec } from '../config/health-spec.js';
import { failed, passed, type CheckResult } from './result.js';

/** An HTTP check's answer against hcexpect and hcbody. */
export function judge(spec: HealthCheckSpec, status: number, body: string): CheckResult {
  if (!spec.expect.has(status)) return failed(`status ${status} not expected`, status);
  if (spec.body !== undefined) {
    const found = typeof spec.body === 'string' ? body.includes(spec.body) : spec.body.test(body);
    if (!found) return failed(`status ${status}, body does not match ${String(spec.body)}`, status);
  }
  return passed(`status ${status}`, status);
}
