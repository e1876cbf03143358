import type { Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import { DRAIN } from '../model/status.js';
import { emitWorkerEvent } from './events.js';

/**
 * Drains one worker: sets N (no new balanced traffic; sticky sessions keep going, as in Apache)
 * and waits until none of its requests is in flight, or until `timeoutMs`. Resolves true when
 * drained (and emits 'worker-drained'), false on the deadline. The flag stays set either way.
 */
export async function drainWorker(balancer: Balancer, worker: Worker, timeoutMs = 30_000): Promise<boolean> {
  if (!worker.draining) balancer.setFlag(worker, DRAIN, true, 'drain requested');
  const deadline = balancer.clock.now() + timeoutMs;
  while (worker.busy > 0 && balancer.clock.now() < deadline) await balancer.waitForChange(deadline).done;
  if (worker.busy > 0) return false;
  emitWorkerEvent(balancer, 'worker-drained', worker, 'no request in flight');
  return true;
}
