/**
 * Route → worker (lib/core/route-worker.ts, Apache's find_route_worker) and one selection
 * (lib/balancer/select.ts, proxy_balancer_pre_request): regular workers before standbys, retry on the
 * way, redirect chains and loops, nofailover, sticky lbstatus accounting and routeChanged
 * (BALANCER_ROUTE_CHANGED). apache.md §3 steps 5-8; oracle sticky-* recordings.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findRouteWorker, routeHasOwner } from '../../lib/select/route.js';
import { resolveSticky } from '../../lib/model/sticky.js';
import { validateMember } from '../../lib/config/validate.js';
import { bitOf } from '../../lib/model/status.js';
import { harness, idOf, type BalancerDef, type MemberDef, runTable } from './helpers/harness.js';

const STICKY: BalancerDef = { stickysession: 'JSESSIONID' };

/** a..d with routes node1..node4 plus whatever each row overrides. */
function routed(overrides: Partial<Record<string, Omit<Exclude<MemberDef, string>, 'id'>>> = {}): MemberDef[] {
  return ['a', 'b', 'c', 'd'].map((id, i) => ({ id, route: `node${i + 1}`, ...overrides[id] }));
}

describe('route → worker', () => {
  runTable(
    [
      { name: 'exact match', members: routed(), events: 'route node2, route node4, route node1', expected: 'b d a' },
      {
        name: 'case-sensitive: Node2 is unknown → balanced',
        members: routed(),
        events: 'route Node2',
        expected: 'a',
      },
      { name: 'no prefix match: node → balanced', members: routed(), events: 'route node', expected: 'a' },
      { name: 'no prefix match: node22 → balanced', members: routed(), events: 'route node22', expected: 'a' },
      {
        name: 'two usable workers with one route: the first in config order',
        members: [
          { id: 'a', route: 'x' },
          { id: 'b', route: 'x' },
        ],
        events: 'route*3 x',
        expected: 'a a a',
      },
      {
        name: 'two workers with one route: an unusable first one is passed over',
        members: [
          { id: 'a', route: 'x', status: '+D' },
          { id: 'b', route: 'x' },
        ],
        events: 'route*2 x',
        expected: 'b b',
      },
      {
        name: 'regular workers before standbys, even when the standby comes first in config',
        members: [{ id: 'h', route: 'node1', status: '+H' }, { id: 'a', route: 'node1' }, 'b'],
        events: 'route node1',
        expected: 'a',
      },
      {
        name: 'the standby with the route takes it when the regular one is unusable',
        members: [{ id: 'h', route: 'node1', status: '+H' }, { id: 'a', route: 'node1', status: '+D' }, 'b'],
        events: 'route*2 node1',
        expected: 'h h',
      },
      {
        name: 'a standby with its own route is routable while regular members are fine',
        members: ['a', { id: 'h', route: 'nodeH', status: '+H' }],
        events: 'route nodeH, pick',
        expected: 'h a',
      },
      {
        name: 'a draining worker (N) still takes its sticky traffic',
        members: routed({ b: { status: '+N' } }),
        events: 'route*2 node2, pick*3',
        expected: 'b b a c d',
      },
      {
        name: 'a disabled worker does not: balanced',
        members: routed({ b: { status: '+D' } }),
        events: 'route*3 node2',
        expected: 'a c d',
      },
      {
        name: 'a stopped worker does not: balanced',
        members: routed({ b: { status: '+S' } }),
        events: 'route node2',
        expected: 'a',
      },
      {
        name: 'a worker with a failed health check does not: balanced',
        members: routed(),
        events: '+C b, route node2',
        expected: 'a',
      },
      {
        name: 'a worker in error is skipped until its retry has run out, then retried through the route',
        members: routed({ b: { retry: '5s' } }),
        events: 'error b, route node2, advance 4999, route node2, advance 1, route node2',
        expected: 'a c b',
      },
      {
        name: 'an I worker in error is retried at once',
        members: routed({ b: { retry: '5s' } }),
        events: 'error b, +I b, route node2',
        expected: 'b',
      },
      {
        name: 'a stopped worker in error is never retried',
        members: routed({ b: { retry: 0, status: '+S' } }),
        events: 'error b, advance 1000, route node2',
        expected: 'a',
      },
    ],
    STICKY,
  );

  it('retrying through the route path counts a retry and emits the change', () => {
    const h = harness(routed({ b: { retry: '1s' } }), STICKY);
    h.run('error b, advance 1000, route node2');
    assert.equal(h.w('b').retries, 1);
    assert.deepEqual(
      h.events.map((e) => `${e.from}→${e.to}`),
      ['→E', 'E→'],
    );
  });

  it('findRouteWorker skips avoided workers and follows their redirect', () => {
    const h = harness(routed({ b: { redirect: 'node3' } }), STICKY);
    assert.equal(findRouteWorker(h.balancer.selector, 'node2', new Set([h.w('b')]))?.url.hostname, 'c');
    assert.equal(findRouteWorker(h.balancer.selector, 'node1', new Set([h.w('a')])), undefined);
  });

  it('follows routes edited live (manager, shared store) and workers added at run time', () => {
    const h = harness(routed(), { ...STICKY, growth: 1 });
    assert.equal(h.run('route node2'), 'b');
    h.w('b').route = 'moved';
    h.w('c').route = 'node2';
    assert.equal(h.run('route node2, route moved'), 'c b');
    assert.equal(routeHasOwner(h.balancer.selector, 'node3'), false);
    h.balancer.addWorker(validateMember('m', { url: 'http://e:8080', route: 'node9' }));
    h.balancer.setFlag(h.w('e'), bitOf('D'), false, 'test');
    assert.equal(h.run('route node9'), 'e');
  });

  it('findRouteWorker: the empty route never matches a worker without route', () => {
    const h = harness(['a', 'b'], STICKY);
    assert.equal(findRouteWorker(h.balancer.selector, '', undefined), undefined);
  });
});

describe('route → worker: redirect', () => {
  runTable(
    [
      {
        name: 'b +D redirect=node3 → c (oracle sticky-disabled-redirect)',
        members: routed({ b: { status: '+D', redirect: 'node3' } }),
        events: 'route*2 node2, pick*3',
        expected: 'c c a d a',
      },
      {
        name: 'chain: b → node3 (c, disabled) → node1 (a)',
        members: routed({ b: { status: '+D', redirect: 'node3' }, c: { status: '+D', redirect: 'node1' } }),
        events: 'route node2',
        expected: 'a',
      },
      {
        name: 'chain through a worker in error whose retry has passed',
        members: routed({ b: { status: '+D', redirect: 'node3' }, c: { retry: '1s' } }),
        events: 'error c, route node2, advance 1000, route node2',
        expected: 'a c',
      },
      {
        name: 'the redirect target unusable too → balanced',
        members: routed({ b: { status: '+D', redirect: 'node3' }, c: { status: '+D' } }),
        events: 'route node2',
        expected: 'a',
      },
      {
        name: 'loop a → b → a terminates → balanced',
        members: routed({ a: { status: '+D', redirect: 'node2' }, b: { status: '+D', redirect: 'node1' } }),
        events: 'route node1, route node2',
        expected: 'c d',
      },
      {
        name: 'self-redirect terminates',
        members: routed({ a: { status: '+D', redirect: 'node1' } }),
        events: 'route node1',
        expected: 'b',
      },
      {
        name: 'redirect to an unknown route → balanced',
        members: routed({ b: { status: '+D', redirect: 'node9' } }),
        events: 'route node2',
        expected: 'a',
      },
      {
        name: 'a usable worker is used even if it has a redirect',
        members: routed({ b: { redirect: 'node3' } }),
        events: 'route node2',
        expected: 'b',
      },
      {
        name: 'redirect to a standby',
        members: [...routed({ b: { status: '+D', redirect: 'nodeH' } }), { id: 'h', route: 'nodeH', status: '+H' }],
        events: 'route node2',
        expected: 'h',
      },
    ],
    STICKY,
  );
});

describe('nofailover', () => {
  const NOFAIL: BalancerDef = { stickysession: 'JSESSIONID', nofailover: true };
  runTable(
    [
      {
        name: "the route's worker is unusable → 503",
        members: routed({ b: { status: '+D' } }),
        balancer: NOFAIL,
        events: 'route*2 node2',
        expected: '503 503',
      },
      {
        name: "the route's worker is in error → 503 until retry, then the worker",
        members: routed({ b: { retry: '2s' } }),
        balancer: NOFAIL,
        events: 'error b, route node2, advance 2000, route node2',
        expected: '503 b',
      },
      {
        name: 'unknown route → balanced (fixed in 2.2.6; the seed answered 503)',
        members: routed(),
        balancer: NOFAIL,
        events: 'route node9',
        expected: 'a',
      },
      { name: 'no route → balanced', members: routed(), balancer: NOFAIL, events: 'pick', expected: 'a' },
      {
        name: 'the redirect target takes it',
        members: routed({ b: { status: '+D', redirect: 'node3' } }),
        balancer: NOFAIL,
        events: 'route node2',
        expected: 'c',
      },
      {
        name: 'redirect target unusable too → 503',
        members: routed({ b: { status: '+D', redirect: 'node3' }, c: { status: '+D' } }),
        balancer: NOFAIL,
        events: 'route node2',
        expected: '503',
      },
      {
        name: 'a route owned only by an unusable standby → 503',
        members: [...routed(), { id: 'h', route: 'nodeH', status: '+H +D' }],
        balancer: NOFAIL,
        events: 'route nodeH',
        expected: '503',
      },
      {
        name: 'off (default): the same request is balanced',
        members: routed({ b: { status: '+D' } }),
        events: 'route node2',
        expected: 'a',
      },
    ],
    STICKY,
  );

  it('routeHasOwner: any worker in any state; never for the empty route', () => {
    const h = harness([{ id: 'a', route: 'node1', status: '+D +S' }, 'b'], STICKY);
    assert.equal(routeHasOwner(h.balancer.selector, 'node1'), true);
    assert.equal(routeHasOwner(h.balancer.selector, 'node2'), false);
    assert.equal(routeHasOwner(h.balancer.selector, ''), false);
  });

  it('a 503 does not move any credit', () => {
    const h = harness(routed({ b: { status: '+D' } }), NOFAIL);
    h.run('route node2');
    assert.deepEqual(h.lbstatus(), [0, 0, 0, 0]);
  });
});

describe('sticky accounting', () => {
  it('3 sticky hits on a of a, b, c → lbstatus -600, 300, 300, then b c b c b c (apache.md §2.2)', () => {
    const h = harness(routed().slice(0, 3), STICKY);
    assert.equal(h.run('route*3 node1'), 'a a a');
    assert.deepEqual(h.lbstatus(), [-600, 300, 300]);
    assert.equal(h.run('pick*6'), 'b c b c b c');
    assert.deepEqual(h.lbstatus(), [0, 0, 0]);
  });

  it('credits every usable worker of any lbset, standbys and draining included; unusable ones are frozen', () => {
    const h = harness(
      [
        { id: 'a', route: 'node1' },
        'b',
        { id: 'h', status: '+H' },
        { id: 'n', status: '+N' },
        { id: 'x', lbset: 1, loadfactor: 2 },
        { id: 'd', status: '+D' },
      ],
      STICKY,
    );
    h.run('error b, route node1');
    assert.deepEqual(h.lbstatus(), [100 - 500, 0, 100, 100, 200, 0]);
  });

  it('counts elected for routed requests', () => {
    const h = harness(routed(), STICKY);
    h.run('route*2 node3, pick');
    assert.deepEqual(
      h.balancer.workers.map((w) => w.elected),
      [1, 0, 2, 0],
    );
  });

  for (const lbmethod of ['byrequests', 'bybusyness', 'bytraffic']) {
    it(`${lbmethod}: sticky traffic alone credits exactly as Apache, also after an outside lbstatus write`, () => {
      // Sticky hits with no balanced pick before them build the election's group themselves.
      const h = harness(routed().slice(0, 3), { ...STICKY, lbmethod });
      assert.equal(h.run('route*4 node1, route*2 node2'), 'a a a a b b');
      assert.deepEqual(h.lbstatus(), [4 * 100 - 4 * 300 + 2 * 100, 4 * 100 + 2 * 100 - 2 * 300, 6 * 100]);
      h.balancer.setLbstatus(h.w('b'), 0); // an outside write hands the lazy credits back
      assert.equal(h.run('route node3'), 'c');
      assert.deepEqual(h.lbstatus(), [-500, 100, 600 + 100 - 300]);
    });
  }

  it('a redirected hit is charged to the worker that took it', () => {
    const h = harness(routed({ b: { status: '+D', redirect: 'node3' } }), STICKY);
    h.run('route node2');
    assert.deepEqual(h.lbstatus(), [100, 0, -200, 100]);
  });
});

describe('routeChanged (BALANCER_ROUTE_CHANGED)', () => {
  const cases: {
    name: string;
    members: MemberDef[];
    balancer: BalancerDef;
    events?: string;
    route?: string;
    changed: boolean;
    worker: string;
  }[] = [
    {
      name: 'sticky balancer, no route: balanced → set',
      members: routed(),
      balancer: STICKY,
      changed: true,
      worker: 'a',
    },
    { name: 'non-sticky balancer → never set', members: routed(), balancer: {}, changed: false, worker: 'a' },
    {
      name: 'routed to the worker of that route → not set',
      members: routed(),
      balancer: STICKY,
      route: 'node2',
      changed: false,
      worker: 'b',
    },
    {
      name: 'unknown route → balanced → set',
      members: routed(),
      balancer: STICKY,
      route: 'node9',
      changed: true,
      worker: 'a',
    },
    {
      name: 'empty route → balanced → set',
      members: routed(),
      balancer: STICKY,
      route: '',
      changed: true,
      worker: 'a',
    },
    {
      name: 'route worker unusable → balanced → set',
      members: routed({ b: { status: '+D' } }),
      balancer: STICKY,
      route: 'node2',
      changed: true,
      worker: 'a',
    },
    {
      name: 'redirect to a worker with another route → set',
      members: routed({ b: { status: '+D', redirect: 'node3' } }),
      balancer: STICKY,
      route: 'node2',
      changed: true,
      worker: 'c',
    },
    {
      name: 'draining worker keeps its route → not set',
      members: routed({ b: { status: '+N' } }),
      balancer: STICKY,
      route: 'node2',
      changed: false,
      worker: 'b',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const h = harness(c.members, c.balancer);
      const { selection, ctx } = h.select(
        c.route === undefined ? undefined : { sticky: 'JSESSIONID', route: c.route, source: 'cookie' },
      );
      assert.equal(selection.worker && idOf(selection.worker), c.worker);
      assert.equal(ctx.routeChanged, c.changed);
    });
  }

  it('nofailover 503 leaves it unset', () => {
    const h = harness(routed({ b: { status: '+D' } }), { stickysession: 'JSESSIONID', nofailover: true });
    const { selection, ctx } = h.select({ sticky: 'JSESSIONID', route: 'node2', source: 'cookie' });
    assert.deepEqual(selection, { worker: undefined, reason: 'route-unavailable' });
    assert.equal(ctx.routeChanged, false);
  });

  it('reports via: route for routed, scheduler for balanced', () => {
    const h = harness(routed(), STICKY);
    assert.equal(
      h.select({ sticky: 'JSESSIONID', route: 'node1', source: 'cookie' }).selection.worker !== undefined,
      true,
    );
    const routedSel = h.select({ sticky: 'JSESSIONID', route: 'node1', source: 'cookie' }).selection;
    const balancedSel = h.select().selection;
    assert.equal('via' in routedSel && routedSel.via, 'route');
    assert.equal('via' in balancedSel && balancedSel.via, 'scheduler');
  });
});

/**
 * The oracle's sticky recordings replayed at the selection layer: resolveSticky on the path and
 * cookie as sent, then selectWorker, as lib/proxy/handle.ts does. Each row:
 * [path, cookie, member, routeChanged, sessionSticky, sessionRoute, lbstatus after (null: not recorded)].
 */
type Row = [string, string, string, boolean, string | null, string | null, number[] | null];

function replay(stickysession: string, extra: BalancerDef, rows: Row[]): void {
  const h = harness(routed(), { stickysession, ...extra });
  rows.forEach(([url, cookieHeader, member, changed, sticky, route, lbstatus], i) => {
    const hit = resolveSticky(url, cookieHeader === '' ? undefined : cookieHeader, h.balancer);
    const { selection, ctx } = h.select(hit);
    const where = `step ${i}: ${url} ${cookieHeader}`;
    assert.ok(selection.worker, where);
    h.exchange(idOf(selection.worker), 0, 0);
    assert.deepEqual(
      [idOf(selection.worker), ctx.routeChanged, ctx.sessionSticky ?? null, ctx.sessionRoute ?? null],
      [member, changed, sticky, route],
      where,
    );
    if (lbstatus) assert.deepEqual(h.lbstatus(), lbstatus, where);
  });
}

describe('oracle replays (selection layer)', () => {
  it('sticky-cookie', () => {
    replay('JSESSIONID', {}, [
      ['/app/s-1', 'JSESSIONID=abc.node2', 'b', false, 'JSESSIONID', 'node2', [100, -300, 100, 100]],
      ['/app/s-2', 'JSESSIONID=abc.node2', 'b', false, 'JSESSIONID', 'node2', [200, -600, 200, 200]],
      ['/app/s-3', 'JSESSIONID=abc.node2', 'b', false, 'JSESSIONID', 'node2', [300, -900, 300, 300]],
      ['/app/plain-1', '', 'a', true, null, null, [0, -800, 400, 400]],
      ['/app/plain-2', '', 'c', true, null, null, [100, -700, 100, 500]],
      ['/app/plain-3', '', 'd', true, null, null, [200, -600, 200, 200]],
      ['/app/plain-4', '', 'a', true, null, null, [-100, -500, 300, 300]],
      ['/app/s-again', 'JSESSIONID=abc.node2', 'b', false, 'JSESSIONID', 'node2', [0, -800, 400, 400]],
      ['/app/multi', 'foo=1; JSESSIONID=xyz.node4; bar=2', 'd', false, 'JSESSIONID', 'node4', [100, -700, 500, 100]],
      ['/app/unknown', 'JSESSIONID=abc.node9', 'c', true, 'JSESSIONID', 'node9', [200, -600, 200, 200]],
      ['/app/nosep', 'JSESSIONID=abcnode3', 'a', true, null, null, [-100, -500, 300, 300]],
      ['/app/twodots', 'JSESSIONID=abc.node1.x', 'c', true, 'JSESSIONID', 'node1.x', [0, -400, 0, 400]],
      ['/app/emptyroute', 'JSESSIONID=abc.', 'd', true, 'JSESSIONID', '', [100, -300, 100, 100]],
      ['/app/lower', 'jsessionid=abc.node3', 'a', true, null, null, [-200, -200, 200, 200]],
      ['/app/suffix', 'XJSESSIONID=abc.node3', 'c', true, null, null, [-100, -100, -100, 300]],
      ['/app/spaces', 'JSESSIONID = abc.node3', 'c', false, 'JSESSIONID', 'node3', [0, 0, -400, 400]],
      [
        '/app/twocookies',
        'JSESSIONID=abc.node1; JSESSIONID=abc.node4',
        'a',
        false,
        'JSESSIONID',
        'node1',
        [-300, 100, -300, 500],
      ],
      ['/app/q?JSESSIONID=abc.node4', '', 'd', false, 'JSESSIONID', 'node4', [-200, 200, -200, 200]],
    ]);
  });

  it('sticky-two-names', () => {
    replay('JSESSIONID|jsessionid', {}, [
      ['/app/c1', 'JSESSIONID=abc.node1', 'a', false, 'JSESSIONID', 'node1', [-300, 100, 100, 100]],
      ['/app/p2;jsessionid=abc.node2', '', 'b', false, 'jsessionid', 'node2', [-200, -200, 200, 200]],
      [
        '/app/both;jsessionid=abc.node2',
        'JSESSIONID=abc.node1',
        'b',
        false,
        'jsessionid',
        'node2',
        [-100, -500, 300, 300],
      ],
      ['/app/lc', 'jsessionid=abc.node3', 'c', true, null, null, [0, -400, 0, 400]],
      ['/app/uc;JSESSIONID=abc.node3', '', 'd', true, null, null, [100, -300, 100, 100]],
      ['/app/q?jsessionid=abc.node4', '', 'd', false, 'jsessionid', 'node4', [200, -200, 200, -200]],
      ['/app/plain-1', '', 'a', true, null, null, [-100, -100, 300, -100]],
      ['/app/plain-2', '', 'c', true, null, null, [0, 0, 0, 0]],
      ['/app/plain-3', '', 'a', true, null, null, [-300, 100, 100, 100]],
    ]);
  });

  it('sticky-scolonpathdelim', () => {
    replay('jsessionid', { scolonpathdelim: true }, [
      ['/app/page;jsessionid=abc.node2;foo=bar', '', 'b', false, 'jsessionid', 'node2', null],
      ['/app/page;jsessionid=abc.node2;foo=bar', '', 'b', false, 'jsessionid', 'node2', null],
      ['/app/page;jsessionid=abc.node3', '', 'c', false, 'jsessionid', 'node3', null],
      ['/app/page?jsessionid=abc.node4&y=2', '', 'd', false, 'jsessionid', 'node4', null],
    ]);
  });

  it('sticky-path-param (steps 0-7; step 8 is the deliberate ?xjsessionid= difference)', () => {
    replay('jsessionid', {}, [
      ['/app/page;jsessionid=abc.node3', '', 'c', false, 'jsessionid', 'node3', [100, 100, -300, 100]],
      ['/app/page;jsessionid=abc.node3', '', 'c', false, 'jsessionid', 'node3', [200, 200, -600, 200]],
      ['/app/page;jsessionid=abc.node2?x=1', '', 'b', false, 'jsessionid', 'node2', [300, -100, -500, 300]],
      ['/app/page?jsessionid=abc.node1', '', 'a', false, 'jsessionid', 'node1', [0, 0, -400, 400]],
      ['/app/page?x=1&jsessionid=abc.node4', '', 'd', false, 'jsessionid', 'node4', [100, 100, -300, 100]],
      ['/app/page', 'jsessionid=abc.node4', 'd', false, 'jsessionid', 'node4', [200, 200, -200, -200]],
      [
        '/app/page;jsessionid=abc.node2',
        'jsessionid=abc.node4',
        'b',
        false,
        'jsessionid',
        'node2',
        [300, -100, -100, -100],
      ],
      ['/app/page;jsessionid=abc.node2;foo=bar', '', 'a', true, 'jsessionid', 'node2;foo=bar', [0, 0, 0, 0]],
    ]);
  });
});
