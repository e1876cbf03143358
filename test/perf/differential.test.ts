/**
 * Differential tests for the pick-cost work (issue #7): the shipped selection path (cached
 * election, lazy-credit heaps, traffic heap, O(1) force recovery) against the reference oracles of
 * test/perf/reference.ts (the O(n) code as it was), on twin balancers driven by the same random
 * events: balanced picks, picks with an avoid set, sticky hits, acquire/release with random bytes,
 * status flags incl. E with retry times on a fake clock, ejections, error state adopted from another
 * instance, lbset and loadfactor edits
 * (with and without recalcFactors), route and redirect edits (routes shared, missing, redirected,
 * nofailover), reset, lbmethod changes, workers added, slow-start ramps, max
 * limits and direct lbstatus writes. After every event every worker's counters must be identical.
 */
import { describe, it } from 'node:test';
import { completed200 } from '../support/outcomes.js';
import assert from 'node:assert/strict';
import type { Worker } from '../../lib/core/worker.js';
import type { Selection } from '../../lib/balancer/select.js';
import type { BalancerOptions, MemberOptions } from '../../lib/config/options.js';
import { Balancer } from '../../lib/balancer/balancer.js';
import { validateConfig, validateMember } from '../../lib/config/validate.js';
import { createContext } from '../../lib/model/context.js';
import { selectWorker } from '../../lib/balancer/select.js';
import { bitOf, type StatusLetter } from '../../lib/model/status.js';
import { registerScheduler } from '../../lib/schedulers/registry.js';
import { rampOnStateChange, rampWorker } from '../../lib/health/slow-start.js';
import { FakeClock, seededRandom } from '../support/clock.js';
import { refByrequests, refBybusyness, refBytraffic, refSelectWorker } from './reference.js';

registerScheduler('ref-byrequests', refByrequests);
registerScheduler('ref-bybusyness', refBybusyness);
registerScheduler('ref-bytraffic', refBytraffic);

const METHODS = ['byrequests', 'bybusyness', 'bytraffic'] as const;
type Method = (typeof METHODS)[number];

interface Side {
  b: Balancer;
  clock: FakeClock;
  select: typeof selectWorker;
  held: Worker[];
  ref: boolean;
}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pickOf = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Mostly a route of its own; sometimes one shared with another worker, sometimes none. */
function routeOf(r: Rand, i: number, n: number): string {
  const roll = r();
  return roll < 0.1 ? '' : roll < 0.25 ? `r${int(r, 0, n - 1)}` : `r${i}`;
}

function config(r: Rand, n: number, method: Method): { options: BalancerOptions; spare: MemberOptions[] } {
  const weightMode = pickOf(r, ['equal', 'equal', 'few', 'many', 'decimal']);
  const lf = (): number =>
    weightMode === 'equal'
      ? 1
      : weightMode === 'few'
        ? int(r, 1, 3)
        : weightMode === 'many'
          ? int(r, 1, 100)
          : int(r, 100, 500) / 100;
  const members: MemberOptions[] = [];
  const tiers = r() < 0.3 ? 3 : 1;
  for (let i = 0; i < n; i++) {
    const m: MemberOptions = {
      url: `http://w${i}:8080`,
      loadfactor: lf(),
      route: routeOf(r, i, n),
      retry: pickOf(r, [0, 1000, 5000, 20000]),
    };
    if (r() < 0.15) m.redirect = `r${int(r, 0, n - 1)}`;
    if (tiers > 1) m.lbset = int(r, 0, tiers - 1);
    const roll = r();
    if (roll < 0.05) m.status = '+H';
    else if (roll < 0.1) m.status = '+R';
    else if (roll < 0.13) m.status = '+D';
    else if (roll < 0.15) m.status = '+N';
    if (r() < 0.1) m.max = int(r, 1, 3);
    members.push(m);
  }
  const growth = int(r, 0, 3);
  const spare = Array.from({ length: growth }, (_, i) => ({ url: `http://x${i}:8080`, route: routeOf(r, i, n) }));
  const options: BalancerOptions = {
    name: 'd',
    mount: '/',
    lbmethod: method,
    members,
    growth,
    forcerecovery: r() < 0.5,
    nofailover: r() < 0.3,
  };
  if (r() < 0.3) options.slowstart = { window: '10s', minWeightPercent: int(r, 1, 50) };
  return { options, spare };
}

function side(options: BalancerOptions, ref: boolean): Side {
  const opts = { ...options, lbmethod: ref ? `ref-${options.lbmethod}` : options.lbmethod };
  const { balancers } = validateConfig({ balancers: [opts] });
  const clock = new FakeClock();
  const b = new Balancer(balancers[0]!, clock, seededRandom(7));
  b.on('statechange', (e) => rampOnStateChange(b, e));
  return { b, clock, select: ref ? refSelectWorker : selectWorker, held: [], ref };
}

const token = (b: Balancer, s: Selection): string => (s.worker ? `${b.workers.indexOf(s.worker)}/${s.via}` : s.reason);

function snapshot(b: Balancer): string {
  return b.workers
    .map((w) =>
      [
        w.status,
        b.lbstatus(w),
        w.busy,
        w.transferred,
        w.read,
        w.elected,
        w.lbset,
        w.lbfactor,
        w.weight,
        w.retries,
      ].join(','),
    )
    .join(' ');
}

const LETTERS: StatusLetter[] = ['D', 'S', 'I', 'H', 'R', 'N', 'C', 'E'];

/** Runs `steps` random events on twin balancers; throws with the seed and step on the first difference. */
function run(seed: number, steps: number, maxN: number, method: Method): void {
  const r = seededRandom(seed);
  const n = int(r, 1, maxN);
  const { options, spare } = config(r, n, method);
  const sides = [side(options, false), side(options, true)] as const;
  let added = 0;
  for (let step = 0; step < steps; step++) {
    const roll = r();
    const nw = sides[0].b.workers.length;
    const wi = int(r, 0, nw - 1);
    const bytes = [int(r, 0, 5000), int(r, 0, 50000)] as const;
    const holdIt = r() < 0.4;
    let what: string;
    const results: string[] = [];
    const each = (fn: (s: Side, w: Worker) => unknown): void => {
      for (const s of sides) {
        const out = fn(s, s.b.workers[wi]!);
        results.push(typeof out === 'string' ? out : '');
      }
    };
    const choose = (s: Side, sel: Selection): string => {
      const t = token(s.b, sel);
      if (sel.worker) {
        s.b.acquire(sel.worker);
        if (holdIt) s.held.push(sel.worker);
        else s.b.release(sel.worker, completed200(bytes[0], bytes[1]), 'GET');
      }
      return t;
    };
    if (roll < 0.45) {
      what = 'pick';
      each((s) => choose(s, s.select(s.b, undefined, createContext(s.b.id), undefined)));
    } else if (roll < 0.5) {
      const avoid = new Set<number>();
      const k = r() < 0.3 ? 0 : int(r, 1, Math.min(3, nw));
      for (let i = 0; i < k; i++) avoid.add(int(r, 0, nw - 1));
      what = `pick avoid ${[...avoid].join(' ')}`;
      each((s) => {
        const set = new Set([...avoid].map((i) => s.b.workers[i]!));
        return choose(s, s.select(s.b, undefined, createContext(s.b.id), set));
      });
    } else if (roll < 0.6) {
      const route = r() < 0.9 ? `r${int(r, 0, nw)}` : 'nowhere';
      what = `sticky ${route}`;
      each((s) => choose(s, s.select(s.b, { sticky: 'S', route, source: 'cookie' }, createContext(s.b.id), undefined)));
    } else if (roll < 0.7) {
      const i = sides[0].held.length === 0 ? -1 : int(r, 0, sides[0].held.length - 1);
      what = `release #${i}`;
      if (i >= 0) {
        each((s) => {
          const [w] = s.held.splice(i, 1);
          s.b.release(w!, completed200(bytes[0], bytes[1]), 'GET');
        });
      }
    } else if (roll < 0.78) {
      const letter = pickOf(r, LETTERS);
      const on = r() < 0.5;
      what = `${on ? '+' : '-'}${letter} ${wi}`;
      each((s, w) => {
        if (letter === 'E' && on) s.b.markError(w, 'test');
        else s.b.setFlag(w, bitOf(letter), on, 'test');
      });
    } else if (roll < 0.79) {
      const ms = int(r, 0, 30000);
      what = `eject ${wi} ${ms}`;
      each((s, w) => s.b.eject(w, ms, 'test'));
    } else if (roll < 0.8) {
      // Error state as another instance saw it (lib/cluster): its own error time and window.
      const ago = int(r, 0, 20000);
      const ms = r() < 0.5 ? undefined : int(r, 0, 30000);
      what = `adoptError ${wi} -${ago} ${ms}`;
      each((s, w) => s.b.adoptError(w, s.clock.now() - ago, ms, 'test'));
    } else if (roll < 0.88) {
      const ms = pickOf(r, [0, 1, 100, 999, 1000, 5000, 20000]);
      what = `advance ${ms}`;
      each((s) => s.clock.advance(ms));
    } else if (roll < 0.9) {
      const lbset = int(r, 0, 2);
      what = `lbset ${wi} ${lbset}`;
      each((s, w) => s.b.setLbset(w, lbset));
    } else if (roll < 0.93) {
      const lf = r() < 0.5 ? sides[0].b.workers[wi]!.lbfactor : int(r, 1, 300);
      const recalc = r() < 0.7;
      what = `lbfactor ${wi} ${lf}${recalc ? ' + recalc' : ''}`;
      each((s, w) => {
        w.lbfactor = lf;
        if (recalc) s.b.recalcFactors();
      });
    } else if (roll < 0.94) {
      what = 'reset';
      each((s) => s.b.scheduler.reset?.(s.b.workers));
    } else if (roll < 0.95) {
      const m = pickOf(r, METHODS);
      what = `lbmethod ${m}`;
      each((s) => s.b.setLbmethod(s.ref ? `ref-${m}` : m));
    } else if (roll < 0.96) {
      const next = spare[added];
      what = `add ${next?.url ?? '(none left)'}`;
      if (next) {
        added++;
        each((s) => {
          const w = s.b.addWorker(validateMember('m', next));
          rampWorker(s.b, w, 'added');
        });
      }
    } else if (roll < 0.965) {
      // The manager edits routes and redirects live: the route index must follow.
      const route = r() < 0.2 ? '' : `r${int(r, 0, nw)}`;
      const redirect = r() < 0.5;
      what = `${redirect ? 'redirect' : 'route'} ${wi} = ${route}`;
      each((s, w) => {
        if (redirect) w.redirect = route;
        else w.route = route;
      });
    } else if (roll < 0.97) {
      const v = int(r, -2000, 2000);
      what = `lbstatus ${wi} = ${v}`;
      each((s, w) => {
        s.b.setLbstatus(w, v);
      });
    } else {
      what = 'picks*5';
      each((s) => {
        const out: string[] = [];
        for (let i = 0; i < 5; i++) out.push(choose(s, s.select(s.b, undefined, createContext(s.b.id), undefined)));
        return out.join(' ');
      });
    }
    const where = `seed ${seed} (${method}, ${nw} workers) step ${step}: ${what}`;
    assert.equal(results[0], results[1], `${where}: different selection`);
    assert.equal(snapshot(sides[0].b), snapshot(sides[1].b), `${where}: different counters`);
  }
}

describe('differential: shipped selection path = the O(n) reference, event by event', () => {
  for (const method of METHODS) {
    it(`${method}: 150 seeds × 1500 events, 1..12 workers`, () => {
      for (let seed = 1; seed <= 150; seed++) run(seed * 7919 + 1, 1500, 12, method);
    });
    it(`${method}: 40 seeds × 2000 events, 1..200 workers`, () => {
      for (let seed = 1; seed <= 40; seed++) run(seed * 104729 + 3, 2000, 200, method);
    });
  }
});
