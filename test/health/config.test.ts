/** Health options: defaults, parsing and ConfigErrors naming the field; the consecutive counter alone. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../lib/config/validate.js';
import { ConfigError } from '../../lib/errors.js';
import { countCheck } from '../../lib/health/counter.js';
import { parseStatusSet } from '../../lib/config/health.js';

const member = (extra: Record<string, unknown>): Record<string, unknown> => ({ url: 'http://a:8080', ...extra });
const build = (m: Record<string, unknown>, b: Record<string, unknown> = {}, g: Record<string, unknown> = {}) =>
  validateConfig({ ...g, balancers: [{ name: 'x', mount: '/x', ...b, members: [m] }] });

function refuses(field: string, fn: () => unknown): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof ConfigError && err.field === field,
    `expected ConfigError on ${field}`,
  );
}

describe('health check options', () => {
  it('defaults follow Apache: NONE = no check; interval 30 s, passes/fails 1, 2xx-3xx pass', () => {
    assert.equal(build(member({})).balancers[0]!.members[0]!.health, undefined);
    const hc = build(member({ hcmethod: 'get' })).balancers[0]!.members[0]!.health!;
    assert.equal(hc.method, 'GET');
    assert.equal(hc.intervalMs, 30_000);
    assert.equal(hc.passes, 1);
    assert.equal(hc.fails, 1);
    assert.equal(hc.uri, '/');
    assert.equal(hc.timeoutMs, 5000);
    assert.equal(hc.beforeTraffic, false);
    assert.ok(hc.expect.has(200) && hc.expect.has(399) && !hc.expect.has(400) && !hc.expect.has(199));
  });

  it('parses every option', () => {
    const hc = build(
      member({
        hcmethod: 'HEAD11',
        hcinterval: '2s',
        hcpasses: 3,
        hcfails: 2,
        hcuri: 'ping',
        hcexpect: '200-204,302',
        hctimeout: '750ms',
        hcbeforetraffic: 'On',
      }),
    ).balancers[0]!.members[0]!.health!;
    assert.deepEqual(
      [hc.method, hc.intervalMs, hc.passes, hc.fails, hc.uri, [...hc.expect], hc.timeoutMs, hc.beforeTraffic],
      ['HEAD11', 2000, 3, 2, '/ping', [200, 201, 202, 203, 204, 302], 750, true],
    );
  });

  it('refuses bad values with the field path', () => {
    const p = 'balancers[0].members[0]';
    refuses(`${p}.hcmethod`, () => build(member({ hcmethod: 'PROVIDER' })));
    refuses(`${p}.hcinterval`, () => build(member({ hcmethod: 'TCP', hcinterval: 99 })));
    refuses(`${p}.hcinterval`, () => build(member({ hcmethod: 'TCP', hcinterval: '1' })));
    refuses(`${p}.hcfails`, () => build(member({ hcmethod: 'TCP', hcfails: 0 })));
    refuses(`${p}.hcuri`, () => build(member({ hcmethod: 'TCP', hcuri: '/h' })));
    refuses(`${p}.hcuri`, () => build(member({ hcmethod: 'GET', hcuri: '/a b' })));
    refuses(`${p}.hcbody`, () => build(member({ hcmethod: 'HEAD', hcbody: 'ok' })));
    refuses(`${p}.hcexpect`, () => build(member({ hcmethod: 'TCP', hcexpect: '200' })));
    refuses(`${p}.hcexpect`, () => build(member({ hcmethod: 'GET', hcexpect: '600' })));
    refuses(`${p}.hcpasses`, () => build(member({ hcpasses: 2 })));
    refuses(`${p}.hctimeout`, () => build(member({ hcmethod: 'GET', hctimeout: 0 })));
  });

  it('status sets: lists, ranges and classes', () => {
    assert.deepEqual([...parseStatusSet('f', [204, '304'])], [204, 304]);
    assert.equal(parseStatusSet('f', '5xx').size, 100);
    assert.equal(parseStatusSet('f', '500-503 429').size, 5);
    assert.throws(() => parseStatusSet('f', '503-500'), ConfigError);
    assert.throws(() => parseStatusSet('f', []), ConfigError);
  });
});

describe('outlier and slowstart options', () => {
  it('off by default; true = defaults; a balancer overrides the global setting', () => {
    assert.equal(build(member({})).balancers[0]!.outlier, undefined);
    const o = build(member({}), { outlier: true }).balancers[0]!.outlier!;
    assert.deepEqual(
      [o.consecutiveFailures, o.baseEjectionMs, o.maxEjectionMs, o.maxEjectionPercent, o.failureStatuses.size],
      [5, 30_000, 300_000, 50, 100],
    );
    const g = build(member({}), {}, { outlier: { consecutiveFailures: 3 }, slowstart: '10s' }).balancers[0]!;
    assert.equal(g.outlier!.consecutiveFailures, 3);
    assert.deepEqual(g.slowstart, { windowMs: 10_000, minWeightPercent: 10, aggression: 1 });
    const off = build(member({}), { outlier: false, slowstart: false }, { outlier: true, slowstart: '10s' })
      .balancers[0]!;
    assert.equal(off.outlier, undefined);
    assert.equal(off.slowstart, undefined);
  });

  it('refuses a single failure as the threshold (CVE-2012-4557) and other bad values', () => {
    refuses('balancers[0].outlier.consecutiveFailures', () =>
      build(member({}), { outlier: { consecutiveFailures: 1 } }),
    );
    refuses('balancers[0].outlier.maxEjectionTime', () =>
      build(member({}), { outlier: { baseEjectionTime: '60s', maxEjectionTime: '30s' } }),
    );
    refuses('balancers[0].outlier.maxEjectionPercent', () =>
      build(member({}), { outlier: { maxEjectionPercent: 101 } }),
    );
    refuses('balancers[0].outlier.consecutive', () => build(member({}), { outlier: { consecutive: 3 } }));
    refuses('outlier', () => build(member({}), {}, { outlier: 'yes' }));
    refuses('balancers[0].slowstart.window', () => build(member({}), { slowstart: { minWeightPercent: 5 } }));
    refuses('balancers[0].slowstart.minWeightPercent', () =>
      build(member({}), { slowstart: { window: '1s', minWeightPercent: 0 } }),
    );
    refuses('slowstart.window', () => build(member({}), {}, { slowstart: '5' }));
  });
});

describe('consecutive counting', () => {
  const run = (results: string, fails: number, passes: number): string => {
    const c = { fails: 0, passes: 0 };
    const state = { hcFailed: false, inError: false };
    let out = '';
    for (const r of results) {
      const t = countCheck(c, r === '+', state, { fails, passes });
      if (t === 'fail') state.hcFailed = true;
      if (t === 'pass') state.hcFailed = false;
      out += state.hcFailed ? 'C' : '.';
    }
    return out;
  };

  it('hcfails 3: only three failures in a row flag; hcpasses 2: only two passes in a row clear', () => {
    assert.equal(run('--+--+---', 3, 1), '........C');
    assert.equal(run('---+-++', 3, 2), '..CCCC.');
  });
});
