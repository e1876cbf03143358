import type { Balancer, WorkerStateEvent } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import { OUT_OF_SERVICE, statusBits } from './events.js';
import { log } from '../debug.js';

/** Starts a ramp for a worker back in service: enabled (D, S cleared) or recovered (E, C cleared). */
export function rampOnStateChange(balancer: Balancer, e: WorkerStateEvent): void {
  if (!balancer.slowstart) return;
  const from = statusBits(e.from);
  const to = statusBits(e.to);
  if (!(from & OUT_OF_SERVICE) || to & OUT_OF_SERVICE) return;
  const w = balancer.worker(e.worker);
  if (w) rampWorker(balancer, w, e.reason);
}

/** Starts a ramp now (also for a worker added at run time). */
export function rampWorker(balancer: Balancer, w: Worker, why: string): void {
  const spec = balancer.slowstart;
  if (!spec) return;
  balancer.startRamp(w, spec);
  log.health(
    '%s %s: slow start over %d ms from %d%% (%s)',
    balancer.id,
    w.name,
    spec.windowMs,
    spec.minWeightPercent,
    why,
  );
}
