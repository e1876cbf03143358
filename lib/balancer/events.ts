import type { Balancer } from './balancer.js';
import type { Worker } from '../core/worker.js';
import { log } from '../debug.js';

/**
 * Worker lifecycle events, each its own Balancer event name. Never plain "error": an EventEmitter
 * throws on an unhandled 'error' event, and a sick backend must not crash the app.
 */
export const WORKER_EVENTS = [
  'worker-error',
  'worker-recovered',
  'health-failed',
  'health-passed',
  'worker-ejected',
  'worker-drained',
  'worker-added',
  'health-check-changed',
  'worker-removed',
] as const;
export type WorkerEventName = (typeof WORKER_EVENTS)[number];

export interface WorkerEvent {
  type: WorkerEventName;
  worker: Worker;
  balancer: Balancer;
  /** Why, in words ("3 consecutive failed checks: status 500", "retry time passed", …). */
  reason: string;
  /** Clock time (the balancer's clock). */
  time: number;
}

export type WorkerEvents = Record<WorkerEventName, [WorkerEvent]>;

/** Emits one worker event on its balancer and logs it under express-proxy-balancer:health. */
export function emitWorkerEvent(balancer: Balancer, type: WorkerEventName, worker: Worker, reason: string): void {
  log.health('%s %s %s: %s', balancer.id, worker.name, type, reason);
  balancer.emit(type, { type, worker, balancer, reason, time: balancer.clock.now() });
}
