/**
 * The new schedulers inside the generic election: sticky hits never ask them, the panic threshold
 * spreads a tier over its workers in error (one event each way), and their options are validated.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../lib/errors.js';
import { validateConfig } from '../../lib/config/validate.js';
import { createContext } from '../../lib/model/context.js';
import { selectWorker } from '../../lib/balancer/select.js';
import { IN_ERROR } from '../../lib/model/status.js';
import type { PanicEvent } from '../../lib/balancer/balancer.js';
import { FakeClock, seededRandom } from '../support/clock.js';
import { build, host, select } from './helpers.js';

describe('sticky hits never consult p2c, ewma or hash', () => {
  for (const lbmethod of ['p2c', 'ewma', 'hash']) {
    it(`${lbmethod}: 1000 sticky hits, no pick and no random draw`, () => {
      let drawn = 0;
      const rnd = seededRandom(1);
      const members = ['a', 'b', 'c'].map((id) => ({ id, route: id }));
      const b = build(members, { lbmethod, stickysession: 'S' }, () => (drawn++, rnd()));
      const s = b.scheduler;
      let picks = 0;
      // Count every call the election makes to the scheduler (a Proxy leaves the methods as they are).
      const counted = new Proxy(s, {
        get(target, prop, receiver) {
          const v: unknown = Reflect.get(target, prop, receiver);
          if ((prop === 'pick' || prop === 'pickCached') && typeof v === 'function') {
            return (...args: unknown[]) => {
              picks++;
              return Reflect.apply(v, target, args) as unknown;
            };
          }
          return v;
        },
      });
      Object.defineProperty(b.selector, 'scheduler', { get: () => counted });
      for (let i = 0; i < 1000; i++) {
        const ctx = createContext(b.id);
        ctx.hashKey = `k${i}`;
        const sel = selectWorker(b, { sticky: 'S', route: 'b', source: 'cookie' }, ctx, undefined);
        assert.equal(host(sel.worker), 'b');
      }
      assert.deepEqual([picks, drawn], [0, 0]);
      select(b, 'x');
      assert.equal(picks, 1);
    });
  }
});

describe('panic', () => {
  it('below the threshold a tier spreads over its workers in error; one event entering, one leaving', () => {
    const clock = new FakeClock();
    const members = ['a', 'b', 'c', 'd'].map((id) => ({ id, retry: 60 }));
    const b = build(members, { lbmethod: 'byrequests', panic: 50 }, seededRandom(1), clock);
    const events: PanicEvent[] = [];
    b.on('panic', (e) => events.push(e));
    const [wa, wb, wc] = b.workers;
    b.setFlag(wa!, IN_ERROR, true, 'test');
    b.setFlag(wb!, IN_ERROR, true, 'test');
    // 2 of 4 usable: 50 % is not below 50 %: only c and d.
    assert.deepEqual([select(b), select(b), select(b), select(b)].map(host), ['c', 'd', 'c', 'd']);
    assert.equal(events.length, 0);
    b.setFlag(wc!, IN_ERROR, true, 'test');
    // 1 of 4: panic, byrequests over all four (a and b carry their frozen credits: 0 and 0).
    const picked = new Set(Array.from({ length: 8 }, () => host(select(b))));
    assert.deepEqual([...picked].sort(), ['a', 'b', 'c', 'd']);
    assert.deepEqual(
      events.map((e) => [e.lbset, e.panic, e.usable, e.total]),
      [[0, true, 1, 4]],
    );
    b.setFlag(wa!, IN_ERROR, false, 'test');
    b.setFlag(wb!, IN_ERROR, false, 'test');
    select(b);
    assert.deepEqual(
      events.map((e) => [e.lbset, e.panic, e.usable, e.total]),
      [
        [0, true, 1, 4],
        [0, false, 3, 4],
      ],
    );
  });

  it('off (0) never spreads over workers in error', () => {
    const b = build(
      ['a', 'b'].map((id) => ({ id })),
      { lbmethod: 'p2c' },
      seededRandom(2),
    );
    b.setFlag(b.workers[0]!, IN_ERROR, true, 'test');
    for (let i = 0; i < 200; i++) assert.equal(host(select(b)), 'b');
  });
});

describe('scheduler options are validated', () => {
  const bad: [string, unknown, string][] = [
    [
      'hashkey',
      'body',
      'balancers[0].hashkey: "body" is not "ip", "path", "uri", "header:NAME", "cookie:NAME" or "query:NAME"',
    ],
    [
      'hashkey',
      'header:a b',
      'balancers[0].hashkey: "header:a b" is not "ip", "path", "uri", "header:NAME", "cookie:NAME" or "query:NAME"',
    ],
    ['hashbalancefactor', 99, 'balancers[0].hashbalancefactor: 99 is not 0 (no bound) or an integer in 100..10000'],
    ['hashbalancefactor', 1.5, 'balancers[0].hashbalancefactor: 1.5 is not an integer in 0..10000'],
    ['p2cbias', -1, 'balancers[0].p2cbias: -1 is not a number in 0..10'],
    ['p2cbias', '1', 'balancers[0].p2cbias: "1" is not a number in 0..10'],
    ['ewmadecay', 0, 'balancers[0].ewmadecay: 0 is not in 1..3600000 ms'],
    ['panic', 101, 'balancers[0].panic: 101 is not an integer in 0..100'],
  ];
  for (const [field, value, message] of bad) {
    it(`${field}: ${JSON.stringify(value)}`, () => {
      assert.throws(
        () =>
          validateConfig({ balancers: [{ name: 'b', mount: '/b', members: [{ url: 'http://a:1' }], [field]: value }] }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message === message &&
          err.field === `balancers[0].${field}` &&
          err.value === value,
      );
    });
  }

  it('defaults, and values as given', () => {
    const spec = (o: object) =>
      validateConfig({ balancers: [{ name: 'b', mount: '/b', members: [{ url: 'http://a:1' }], ...o }] }).balancers[0]!;
    const d = spec({});
    assert.deepEqual(
      [d.hashkey, d.hashbalancefactor, d.p2cbias, d.ewmadecayMs, d.panic],
      [{ kind: 'ip' }, 125, 1, 10_000, 0],
    );
    const s = spec({ hashkey: 'header:X-User', hashbalancefactor: 0, p2cbias: 0.5, ewmadecay: '2s', panic: 50 });
    assert.deepEqual(
      [s.hashkey, s.hashbalancefactor, s.p2cbias, s.ewmadecayMs, s.panic],
      [{ kind: 'header', name: 'x-user' }, 0, 0.5, 2000, 50],
    );
  });
});
