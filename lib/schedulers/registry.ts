import { BalancerError } from '../errors.js';
import { byrequests } from './byrequests.js';
import { bytraffic } from './bytraffic.js';
import { bybusyness } from './bybusyness.js';
import { p2c } from './p2c.js';
import { ewma } from './ewma.js';
import { hash } from './hash.js';
import type { SchedulerFactory } from './types.js';

/**
 * Scheduler registry: lbmethod name → factory. Built-ins are listed here explicitly (no import
 * side effects). Note: a process that loads both the CJS and the ESM build has two registries;
 * register custom schedulers through the same entry point the balancer is built from.
 */
const registry = new Map<string, SchedulerFactory>([
  ['byrequests', byrequests],
  ['bytraffic', bytraffic],
  ['bybusyness', bybusyness],
  ['p2c', p2c],
  ['ewma', ewma],
  ['hash', hash],
]);

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export function registerScheduler(name: string, factory: SchedulerFactory): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new BalancerError(
      'ERR_CONFIG_INVALID',
      `scheduler name: ${JSON.stringify(name)} is not 1..32 of a-z 0-9 _ - starting with a letter`,
    );
  }
  if (typeof factory !== 'function') {
    throw new BalancerError('ERR_CONFIG_INVALID', `scheduler ${name}: factory is not a function`);
  }
  if (registry.has(name)) throw new BalancerError('ERR_SCHEDULER_EXISTS', `scheduler ${name} is already registered`);
  registry.set(name, factory);
}

export function getScheduler(name: string): SchedulerFactory | undefined {
  return registry.get(name);
}

export function hasScheduler(name: string): boolean {
  return registry.has(name);
}

export function listSchedulers(): string[] {
  return [...registry.keys()];
}
