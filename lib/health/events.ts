import type { Balancer, WorkerStateEvent } from '../balancer/balancer.js';
import { DISABLED, HC_FAIL, IN_ERROR, STOPPED, bitOf, isStatusLetter } from '../model/status.js';
import { WORKER_EVENTS, emitWorkerEvent, type WorkerEvent } from '../balancer/events.js';

export {
  WORKER_EVENTS,
  emitWorkerEvent,
  type WorkerEvent,
  type WorkerEventName,
  type WorkerEvents,
} from '../balancer/events.js';

/** Subscribes one listener to every worker event of a balancer; returns the unsubscribe function. */
export function onWorkerEvents(balancer: Balancer, listener: (e: WorkerEvent) => void): () => void {
  for (const name of WORKER_EVENTS) balancer.on(name, listener);
  return () => {
    for (const name of WORKER_EVENTS) balancer.off(name, listener);
  };
}

/** Status bits from status letters ("EC" → E|C), for statechange events. */
export function statusBits(letters: string): number {
  let out = 0;
  for (const ch of letters) if (isStatusLetter(ch)) out |= bitOf(ch);
  return out;
}

/** Flags whose clearing counts as coming back into service (slow start begins then). */
export const OUT_OF_SERVICE = DISABLED | STOPPED | IN_ERROR | HC_FAIL;

/**
 * Turns the balancer's raw statechange events into worker-error / worker-recovered. C changes are
 * announced by the checker itself (health-failed / health-passed), which knows the check's result.
 */
export function translateStateChange(balancer: Balancer, e: WorkerStateEvent): void {
  const worker = balancer.worker(e.worker);
  if (!worker) return;
  const from = statusBits(e.from);
  const to = statusBits(e.to);
  if (!(from & IN_ERROR) && to & IN_ERROR) emitWorkerEvent(balancer, 'worker-error', worker, e.reason);
  if (from & (IN_ERROR | HC_FAIL) && !(to & OUT_OF_SERVICE))
    emitWorkerEvent(balancer, 'worker-recovered', worker, e.reason);
}
