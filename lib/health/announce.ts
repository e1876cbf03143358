import type { Balancer } from '../balancer/balancer.js';
import type { Notices } from '../logger.js';
import type { WorkerEvent } from './events.js';

/**
 * One log line per worker transition out of or back into service, and per tier entering or leaving
 * panic, so a sick backend is visible
 * without subscribing to events. health-passed is left out: the worker-recovered it causes says it.
 */
export function announceTransitions(balancer: Balancer, notices: Notices): void {
  const line = (e: WorkerEvent, what: string): string => `${balancer.id} ${e.worker.name} ${what}: ${e.reason}`;
  balancer.on('worker-error', (e) => notices.say('warn', line(e, 'is in error')));
  balancer.on('health-failed', (e) => notices.say('warn', line(e, 'failed its health check')));
  balancer.on('worker-recovered', (e) => notices.say('info', line(e, 'is back in service')));
  balancer.on('panic', (e) =>
    notices.say(
      e.panic ? 'warn' : 'info',
      `${balancer.id} lbset ${e.lbset} ${e.panic ? 'entered' : 'left'} panic: ${e.usable} of ${e.total} workers usable`,
    ),
  );
}
