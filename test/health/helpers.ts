import type { BalancerConfig, BalancerOptions, MemberOptions } from '../../lib/config/options.js';
import type { Worker } from '../../lib/core/worker.js';
import { completed200 } from '../support/outcomes.js';
import type { WorkerEvent } from '../../lib/health/events.js';
import { validateConfig } from '../../lib/config/validate.js';
import { Balancer } from '../../lib/balancer/balancer.js';
import { createContext } from '../../lib/model/context.js';
import { selectWorker } from '../../lib/balancer/select.js';
import { watchHealth, type BalancerHealth } from '../../lib/health/monitor.js';
import { onWorkerEvents } from '../../lib/health/events.js';
import { statusLetters } from '../../lib/model/status.js';
import { FakeClock, seededRandom } from '../support/clock.js';

export interface Rig {
  balancer: Balancer;
  health: BalancerHealth;
  clock: FakeClock;
  /** Every worker event, as "type name" with the worker's name shortened to its index letter. */
  events: WorkerEvent[];
  w(i: number): Worker;
  /** Status letters of worker i ("" when healthy). */
  flags(i: number): string;
  /** Runs worker i's check now and returns whether it passed. */
  check(i: number): Promise<boolean | undefined>;
  /** n balanced selections (released at once, each moving `bytes` in); the picked workers' letters. */
  picks(n: number, bytes?: number): string;
  stop(): void;
}

/** A balancer built through the real validation, on a fake clock, with health handling started. */
export function rig(
  members: MemberOptions[],
  balancer: Partial<Omit<BalancerOptions, 'members'>> = {},
  global: Partial<BalancerConfig> = {},
): Rig {
  const clock = new FakeClock();
  const { balancers } = validateConfig({ ...global, balancers: [{ name: 'hc', mount: '/app', ...balancer, members }] });
  const b = new Balancer(balancers[0]!, clock, seededRandom(7));
  const events: WorkerEvent[] = [];
  onWorkerEvents(b, (e) => events.push(e));
  const health = watchHealth(b);
  const w = (i: number): Worker => b.workers[i]!;
  const letter = (x: Worker): string => String.fromCharCode(97 + b.workers.indexOf(x));
  return {
    balancer: b,
    health,
    clock,
    events,
    w,
    flags: (i) => statusLetters(w(i).status),
    check: async (i) => (await health.checker(w(i))!.check())?.ok,
    picks: (n, bytes = 0) => {
      const out: string[] = [];
      for (let k = 0; k < n; k++) {
        const sel = selectWorker(b, undefined, createContext(b.id), undefined);
        if (!sel.worker) {
          out.push('-');
          continue;
        }
        b.acquire(sel.worker);
        b.release(sel.worker, completed200(bytes, bytes), 'GET');
        out.push(letter(sel.worker));
      }
      return out.join(' ');
    },
    stop: () => health.stop(),
  };
}

/** Event types (with the worker's index letter) in order, e.g. "health-failed:b". */
export function eventList(r: Rig): string[] {
  return r.events.map((e) => `${e.type}:${String.fromCharCode(97 + r.balancer.workers.indexOf(e.worker))}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` in real time (for I/O to arrive) up to `ms`. */
export async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
