import type { Worker } from '../core/worker.js';
import type { HealthCheckSpec } from '../config/health-spec.js';
import { checkTarget } from './connect.js';
import { probeTcp } from './probe-tcp.js';
import { probeHttp10 } from './probe-http10.js';
import { probeHttp11 } from './probe-http11.js';
import { judge } from './verdict.js';
import type { CheckResult } from './result.js';

/** Runs one check of `worker` with real sockets; ends early (failed) when `signal` aborts. */
export async function probe(worker: Worker, spec: HealthCheckSpec, signal: AbortSignal): Promise<CheckResult> {
  const target = checkTarget(worker);
  if (spec.method === 'TCP') return probeTcp(target, signal);
  const http11 = spec.method.endsWith('11');
  const method = spec.method.replace(/11$/, '') as 'OPTIONS' | 'HEAD' | 'GET';
  const answer = await (http11 ? probeHttp11 : probeHttp10)(target, method, spec.uri, signal);
  return 'ok' in answer ? answer : judge(spec, answer.status, answer.body);
}
