import type { Candidate } from '../../lib/schedulers/types.js';
import { Balancer } from '../../lib/balancer/balancer.js';
import { createContext } from '../../lib/model/context.js';
import { selectWorker } from '../../lib/balancer/select.js';
import { validateConfig } from '../../lib/config/validate.js';
import type { BalancerOptions, MemberOptions } from '../../lib/config/options.js';
import type { Worker } from '../../lib/core/worker.js';
import { FakeClock } from '../support/clock.js';

/** A plain candidate, as a scheduler sees a worker. */
export function cand(name: string, lbfactor = 100, busy = 0): Candidate & { busy: number } {
  return { name, lbfactor, weight: lbfactor, busy, transferred: 0, read: 0, lbstatus: 0, ramp: undefined };
}

/** Random draws from a fixed list, to choose by hand; throws when the list runs out. */
export function draws(values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error(`draw ${i + 1}: only ${values.length} given`);
    return values[i++]!;
  };
}

/** A balancer "b" of members named by host, built from validated options. */
export function build(
  members: ({ id: string } & Omit<MemberOptions, 'url'>)[],
  opts: Partial<BalancerOptions>,
  random: () => number,
  clock = new FakeClock(),
): Balancer {
  const { balancers } = validateConfig({
    balancers: [
      {
        name: 'b',
        mount: '/b',
        members: members.map(({ id, ...m }) => ({ url: `http://${id}:8080`, ...m })),
        ...opts,
      },
    ],
  });
  return new Balancer(balancers[0]!, clock, random);
}

export const host = (w: Worker | undefined): string => w?.url.hostname ?? '-';

/** One balanced (or sticky) selection's worker host. */
export function select(b: Balancer, key?: string): Worker | undefined {
  const ctx = createContext(b.id);
  if (key !== undefined) ctx.hashKey = key;
  return selectWorker(b, undefined, ctx, undefined).worker;
}
