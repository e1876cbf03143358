/**
 * Test harness for the core: builds balancers through the real config validation and drives them
 * with a tiny event script, so every table row reads as {config, events, expected sequence}.
 *
 * Members are named by id: member `a` gets the URL `http://a:8080`, and a worker's id is its host
 * name. Scripts are comma-separated steps; the ones that select a worker append a token to the
 * sequence: the worker id, `-` when no worker was found, `503` when nofailover refused a route,
 * else the selection's reason (e.g. `full`).
 *
 *   pick, pick*N        balanced selection (no sticky hit); busy goes up and down again
 *   hold, hold*N        balanced selection; the request stays in flight (busy stays up)
 *   done X              one request in flight on X ends
 *   xfer*N OUT IN       balanced selection; the exchange moved OUT bytes out and IN bytes in
 *   route R, route*N R  selection with the sticky route R
 *   error X             X goes into error state (markError)
 *   +F X, -F X          sets / clears status flag F (a letter of model/status.ts) on X
 *   advance MS          moves the fake clock
 *   reset               the scheduler's reset() over every worker
 *   |                   appends "|" to the sequence (readability only)
 */
import { completed200 } from '../../support/outcomes.js';
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { BalancerOptions, MemberOptions } from '../../../lib/config/options.js';
import type { Worker } from '../../../lib/core/worker.js';
import type { WorkerStateEvent } from '../../../lib/balancer/balancer.js';
import type { RequestContext } from '../../../lib/model/context.js';
import type { StickyHit } from '../../../lib/model/sticky.js';
import type { Selection } from '../../../lib/balancer/select.js';
import { validateConfig } from '../../../lib/config/validate.js';
import { Balancer } from '../../../lib/balancer/balancer.js';
import { createContext } from '../../../lib/model/context.js';
import { selectWorker } from '../../../lib/balancer/select.js';
import { bitOf, isStatusLetter } from '../../../lib/model/status.js';
import { FakeClock, seededRandom } from '../../support/clock.js';

export type MemberDef = string | (Omit<MemberOptions, 'url'> & { id: string });
export type BalancerDef = Partial<Omit<BalancerOptions, 'members'>>;

export interface Harness {
  balancer: Balancer;
  clock: FakeClock;
  /** Every statechange event, in order. */
  events: WorkerStateEvent[];
  /** The worker with that id; throws for an unknown id (a typo in a table must not pass silently). */
  w(id: string): Worker;
  /** lbstatus of every worker, in config order. */
  lbstatus(): number[];
  /** One finished exchange on worker `id`: acquire, then release with these byte counts. */
  exchange(id: string, transferred: number, read: number): void;
  /** Runs a script and returns the selection tokens joined by single spaces. */
  run(script: string): string;
  /** One selection with an explicit sticky hit (or none); also returns the context it updated. */
  select(hit?: StickyHit, avoid?: ReadonlySet<Worker>): { selection: Selection; ctx: RequestContext };
}

export const idOf = (w: Worker): string => w.url.hostname;

/** The id of what elect() returned: a worker id, 'full' or undefined. */
export const host = (x: Worker | 'full' | undefined): string | undefined => (x === 'full' ? x : x?.url.hostname);

export function memberOptions(def: MemberDef): MemberOptions {
  if (typeof def === 'string') return { url: `http://${def}:8080` };
  const { id, ...rest } = def;
  return { url: `http://${id}:8080`, ...rest };
}

export function harness(members: MemberDef[], options: BalancerDef = {}, clock = new FakeClock()): Harness {
  const { balancers } = validateConfig({
    balancers: [{ name: 'test', mount: '/app', ...options, members: members.map(memberOptions) }],
  });
  const balancer = new Balancer(balancers[0]!, clock, seededRandom(42));
  const events: WorkerStateEvent[] = [];
  balancer.on('statechange', (e) => events.push(e));

  const w = (id: string): Worker => {
    const found = balancer.workers.find((x) => idOf(x) === id);
    if (!found) throw new Error(`no worker ${id} (have ${balancer.workers.map(idOf).join(' ')})`);
    return found;
  };

  const select = (hit?: StickyHit, avoid?: ReadonlySet<Worker>): { selection: Selection; ctx: RequestContext } => {
    const ctx = createContext(balancer.id);
    if (hit) {
      ctx.sessionSticky = hit.sticky;
      ctx.sessionRoute = hit.route;
    }
    return { selection: selectWorker(balancer, hit, ctx, avoid), ctx };
  };

  /** The only place the tests call release(), so its signature lives in one spot. */
  const release = (worker: Worker, transferred: number, read: number): void => {
    balancer.release(worker, completed200(transferred, read), 'GET');
  };

  const exchange = (id: string, transferred: number, read: number): void => {
    balancer.acquire(w(id));
    release(w(id), transferred, read);
  };

  const token = (s: Selection): string => {
    if (s.worker) return idOf(s.worker);
    if (s.reason === 'route-unavailable') return '503';
    if (s.reason === 'no-worker') return '-';
    return s.reason;
  };

  const run = (script: string): string => {
    const out: string[] = [];
    for (const raw of script.split(',')) {
      const step = raw.trim();
      if (step === '') continue;
      if (step === '|') {
        out.push('|');
        continue;
      }
      const [head = '', ...args] = step.split(/\s+/);
      const [verb = '', times = '1'] = head.split('*');
      const n = Number(times);
      if (!Number.isInteger(n) || n < 1) throw new Error(`bad repeat in step "${step}"`);
      const arg = (i: number): string => {
        const a = args[i];
        if (a === undefined) throw new Error(`step "${step}" needs argument ${i + 1}`);
        return a;
      };
      switch (verb) {
        case 'pick':
        case 'hold':
        case 'xfer':
        case 'route':
          for (let i = 0; i < n; i++) {
            const hit: StickyHit | undefined =
              verb === 'route' ? { sticky: 'JSESSIONID', route: arg(0), source: 'cookie' } : undefined;
            const { selection } = select(hit);
            out.push(token(selection));
            if (!selection.worker) continue;
            balancer.acquire(selection.worker);
            if (verb === 'hold') continue;
            const xfer = verb === 'xfer';
            release(selection.worker, xfer ? Number(arg(0)) : 0, xfer ? Number(arg(1)) : 0);
          }
          break;
        case 'done':
          release(w(arg(0)), 0, 0);
          break;
        case 'error':
          balancer.markError(w(arg(0)), 'test');
          break;
        case 'advance':
          clock.advance(Number(arg(0)));
          break;
        case 'reset':
          balancer.scheduler.reset?.(balancer.workers);
          break;
        default: {
          const sign = verb[0];
          const letter = verb.slice(1);
          if ((sign !== '+' && sign !== '-') || !isStatusLetter(letter)) throw new Error(`unknown step "${step}"`);
          balancer.setFlag(w(arg(0)), bitOf(letter), sign === '+', 'test');
        }
      }
    }
    return out.join(' ');
  };

  const lbstatus = (): number[] => balancer.workers.map((x) => balancer.lbstatus(x));
  return { balancer, clock, events, w, lbstatus, exchange, run, select };
}

/** Shorthand for plain members a, b, c, … */
export function plain(ids: string): MemberDef[] {
  return ids.split(/\s+/).filter(Boolean);
}

/** One row of a schedule table: members, an event script and the expected outcome of `run`. */
export interface ScheduleCase {
  name: string;
  members: MemberDef[];
  balancer?: BalancerDef;
  events: string;
  expected: string;
}

/** One test per row; `fallback` is the balancer definition of rows that give none. */
export function runTable(cases: ScheduleCase[], fallback?: BalancerDef): void {
  for (const c of cases) {
    it(c.name, () => {
      const h = harness(c.members, c.balancer ?? fallback);
      assert.equal(h.run(c.events), c.expected);
    });
  }
}
