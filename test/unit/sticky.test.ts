/**
 * The sticky route resolver (lib/model/sticky.ts resolveSticky): where the session value is found
 * and how the route is cut from it. apache.md §3 steps 2-4 and the oracle's sticky-cookie,
 * sticky-path-param, sticky-two-names and sticky-scolonpathdelim recordings. Options are built
 * through validateConfig, so "A|B", separators and scolonpathdelim are parsed as users write them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../lib/config/validate.js';
import { resolveSticky, type StickyHit, type StickyOptions } from '../../lib/model/sticky.js';

function options(
  stickysession: string | undefined,
  extra: { stickysessionsep?: string | false; scolonpathdelim?: boolean } = {},
): StickyOptions {
  const { balancers } = validateConfig({
    balancers: [{ name: 't', mount: '/app', stickysession, ...extra, members: [{ url: 'http://a:8080' }] }],
  });
  return balancers[0]!;
}

const cookie = (sticky: string, route: string): StickyHit => ({ sticky, route, source: 'cookie' });
const path = (sticky: string, route: string): StickyHit => ({ sticky, route, source: 'path' });
const query = (sticky: string, route: string): StickyHit => ({ sticky, route, source: 'query' });

interface Case {
  name: string;
  sticky?: string;
  sep?: string | false;
  scolon?: boolean;
  url?: string;
  cookie?: string;
  expected: StickyHit | undefined;
  /** Set when the core is known to disagree with Apache; the row asserts Apache's behaviour. */
  todo?: string;
}

function runTable(cases: Case[]): void {
  for (const c of cases) {
    const opts: { stickysessionsep?: string | false; scolonpathdelim?: boolean } = {};
    if (c.sep !== undefined) opts.stickysessionsep = c.sep;
    if (c.scolon !== undefined) opts.scolonpathdelim = c.scolon;
    it(c.name, c.todo === undefined ? {} : { todo: c.todo }, () => {
      const o = options(c.sticky ?? 'JSESSIONID', opts);
      assert.deepEqual(resolveSticky(c.url ?? '/app/page', c.cookie, o), c.expected);
    });
  }
}

describe('sticky: where the value comes from', () => {
  runTable([
    { name: 'cookie', cookie: 'JSESSIONID=abc.node2', expected: cookie('JSESSIONID', 'node2') },
    {
      name: 'cookie among others (oracle: foo=1; JSESSIONID=xyz.node4; bar=2)',
      cookie: 'foo=1; JSESSIONID=xyz.node4; bar=2',
      expected: cookie('JSESSIONID', 'node4'),
    },
    {
      name: ';name=value path parameter',
      sticky: 'jsessionid',
      url: '/app/page;jsessionid=abc.node3',
      expected: path('jsessionid', 'node3'),
    },
    {
      name: 'path parameter followed by a query',
      sticky: 'jsessionid',
      url: '/app/page;jsessionid=abc.node2?x=1',
      expected: path('jsessionid', 'node2'),
    },
    {
      name: 'path parameter in an inner segment',
      sticky: 'jsessionid',
      url: '/app/dir;jsessionid=abc.node2/page',
      expected: path('jsessionid', 'node2'),
    },
    {
      name: '?name= query parameter',
      sticky: 'jsessionid',
      url: '/app/page?jsessionid=abc.node1',
      expected: query('jsessionid', 'node1'),
    },
    {
      name: '&name= query parameter',
      sticky: 'jsessionid',
      url: '/app/page?x=1&jsessionid=abc.node4',
      expected: query('jsessionid', 'node4'),
    },
    {
      name: 'query value ends at &',
      sticky: 'jsessionid',
      url: '/app/page?jsessionid=abc.node4&y=2',
      expected: query('jsessionid', 'node4'),
    },
    {
      name: 'one name: also looked for in the URL (oracle: ?JSESSIONID=abc.node4 → d)',
      url: '/app/q?JSESSIONID=abc.node4',
      expected: query('JSESSIONID', 'node4'),
    },
    {
      name: 'no stickysession configured → never sticky',
      sticky: '',
      url: '/app/p;JSESSIONID=abc.node1?JSESSIONID=abc.node1',
      cookie: 'JSESSIONID=abc.node1',
      expected: undefined,
    },
    { name: 'no cookie header and nothing in the URL', expected: undefined },
    { name: 'empty cookie header', cookie: '', expected: undefined },
  ]);
});

describe('sticky: COOKIE|URLPARAM names', () => {
  const sticky = 'JSESSIONID|jsessionid';
  runTable([
    { name: 'cookie A', sticky, cookie: 'JSESSIONID=abc.node1', expected: cookie('JSESSIONID', 'node1') },
    { name: 'path param B', sticky, url: '/app/p2;jsessionid=abc.node2', expected: path('jsessionid', 'node2') },
    { name: 'query param B', sticky, url: '/app/q?jsessionid=abc.node4', expected: query('jsessionid', 'node4') },
    { name: 'a cookie named B is ignored', sticky, cookie: 'jsessionid=abc.node3', expected: undefined },
    { name: 'a path param named A is ignored', sticky, url: '/app/uc;JSESSIONID=abc.node3', expected: undefined },
    { name: 'a query param named A is ignored', sticky, url: '/app/uc?JSESSIONID=abc.node3', expected: undefined },
    {
      name: 'spaces around | are trimmed ("A | B" as the manager pre-fills it)',
      sticky: 'JSESSIONID | jsessionid',
      cookie: 'JSESSIONID=abc.node1',
      expected: cookie('JSESSIONID', 'node1'),
    },
  ]);
});

describe('sticky: precedence', () => {
  runTable([
    {
      name: 'URL path param beats cookie',
      sticky: 'JSESSIONID|jsessionid',
      url: '/app/both;jsessionid=abc.node2',
      cookie: 'JSESSIONID=abc.node1',
      expected: path('jsessionid', 'node2'),
    },
    {
      name: 'URL query beats cookie',
      sticky: 'jsessionid',
      url: '/app/page?jsessionid=abc.node2',
      cookie: 'jsessionid=abc.node4',
      expected: query('jsessionid', 'node2'),
    },
    {
      name: 'path param beats query',
      sticky: 'jsessionid',
      url: '/app/p;jsessionid=abc.node1?jsessionid=abc.node2',
      expected: path('jsessionid', 'node1'),
    },
    {
      name: 'an empty URL value does not count: the cookie is used',
      sticky: 'jsessionid',
      url: '/app/p;jsessionid=?jsessionid=',
      cookie: 'jsessionid=abc.node1',
      expected: cookie('jsessionid', 'node1'),
    },
    {
      name: 'a URL value without separator is found, so the cookie is not consulted (Apache: no route)',
      sticky: 'jsessionid',
      url: '/app/p;jsessionid=abc',
      cookie: 'jsessionid=abc.node1',
      expected: undefined,
    },
  ]);
});

describe('sticky: separator and route extraction', () => {
  runTable([
    {
      name: 'route is after the first separator',
      cookie: 'JSESSIONID=abc.node1.x',
      expected: cookie('JSESSIONID', 'node1.x'),
    },
    { name: 'value without separator → not sticky', cookie: 'JSESSIONID=abcnode3', expected: undefined },
    { name: 'empty route (abc.) → found with route ""', cookie: 'JSESSIONID=abc.', expected: cookie('JSESSIONID', '') },
    {
      name: 'leading separator (.node1, the ROUTEID recipe)',
      cookie: 'ROUTEID=.node1',
      sticky: 'ROUTEID',
      expected: cookie('ROUTEID', 'node1'),
    },
    { name: 'empty value → not sticky', cookie: 'JSESSIONID=', expected: undefined },
    {
      name: "custom separator '!' (WebLogic)",
      sep: '!',
      cookie: 'JSESSIONID=abc!node2',
      expected: cookie('JSESSIONID', 'node2'),
    },
    { name: "custom separator '!': a '.' is just text", sep: '!', cookie: 'JSESSIONID=abc.node2', expected: undefined },
    {
      name: "custom separator '_'",
      sep: '_',
      cookie: 'JSESSIONID=abc_node2_x',
      expected: cookie('JSESSIONID', 'node2_x'),
    },
    {
      name: 'separator off (false): the whole value is the route',
      sep: false,
      cookie: 'JSESSIONID=abc.node2',
      expected: cookie('JSESSIONID', 'abc.node2'),
    },
    { name: "separator 'Off'", sep: 'Off', cookie: 'JSESSIONID=node2', expected: cookie('JSESSIONID', 'node2') },
    {
      name: 'the route is raw (not percent-decoded)',
      cookie: 'JSESSIONID=abc.node%31',
      expected: cookie('JSESSIONID', 'node%31'),
    },
  ]);
});

describe('sticky: names match exactly, at boundaries', () => {
  runTable([
    { name: 'cookie name is case-sensitive', cookie: 'jsessionid=abc.node3', expected: undefined },
    {
      name: 'path param name is case-sensitive',
      sticky: 'jsessionid',
      url: '/app/page;JSESSIONID=abc.node3',
      expected: undefined,
    },
    {
      name: 'query name is case-sensitive',
      sticky: 'jsessionid',
      url: '/app/page?JSESSIONID=abc.node3',
      expected: undefined,
    },
    { name: 'XJSESSIONID= cookie does not match', cookie: 'XJSESSIONID=abc.node3', expected: undefined },
    {
      name: 'XJSESSIONID= before the real cookie: the real one is found',
      cookie: 'XJSESSIONID=abc.node3; JSESSIONID=abc.node1',
      expected: cookie('JSESSIONID', 'node1'),
    },
    { name: 'JSESSIONIDX= cookie does not match', cookie: 'JSESSIONIDX=abc.node3', expected: undefined },
    {
      name: '?xjsessionid= does not match (deliberate: Apache substring-matches and routes to node3)',
      sticky: 'jsessionid',
      url: '/app/page?xjsessionid=abc.node3',
      expected: undefined,
    },
    {
      name: ';xjsessionid= does not match (deliberate difference)',
      sticky: 'jsessionid',
      url: '/app/page;xjsessionid=abc.node3',
      expected: undefined,
    },
    {
      name: '?userid= does not match stickysession "id"',
      sticky: 'id',
      url: '/app/p?userid=7.node1',
      expected: undefined,
    },
    {
      name: '?jsessionidx= does not match',
      sticky: 'jsessionid',
      url: '/app/p?jsessionidx=abc.node1',
      expected: undefined,
    },
    {
      name: 'name without = in the query does not match',
      sticky: 'jsessionid',
      url: '/app/p?jsessionid&x=a.node1',
      expected: undefined,
    },
    {
      name: ';name= inside a query value does not match with scolonpathdelim off (deliberate: Apache substring-matches)',
      sticky: 'jsessionid',
      url: '/app/p?a=1;jsessionid=abc.node1',
      expected: undefined,
    },
  ]);
});

describe('sticky: cookie parsing', () => {
  runTable([
    {
      name: 'spaces around = are accepted (oracle)',
      cookie: 'JSESSIONID = abc.node3',
      expected: cookie('JSESSIONID', 'node3'),
    },
    {
      name: 'leading and trailing spaces',
      cookie: '  JSESSIONID=abc.node3  ',
      expected: cookie('JSESSIONID', 'node3'),
    },
    {
      name: 'duplicate cookies: the first wins (oracle)',
      cookie: 'JSESSIONID=abc.node1; JSESSIONID=abc.node4',
      expected: cookie('JSESSIONID', 'node1'),
    },
    {
      name: 'quotes are kept, like Apache',
      cookie: 'JSESSIONID="abc.node2"',
      expected: cookie('JSESSIONID', 'node2"'),
    },
    { name: 'unterminated quote', cookie: 'JSESSIONID="abc.node2', expected: cookie('JSESSIONID', 'node2') },
    { name: 'no separator at all in the header', cookie: 'JSESSIONID', expected: undefined },
    {
      name: 'Apache cuts the cookie value at "," too',
      cookie: 'JSESSIONID=abc.node2,other=1',
      expected: cookie('JSESSIONID', 'node2'),
    },
    {
      name: 'Apache finds the name after ","',
      cookie: 'a=1,JSESSIONID=abc.node2',
      expected: cookie('JSESSIONID', 'node2'),
    },
  ]);

  const malformed = [
    '=;;;',
    ';;JSESSIONID',
    '=JSESSIONID=abc.node1',
    'JSESSIONID==abc.node1',
    '%',
    'JSESSIONID=%E0%A4%A',
    '\u0000JSESSIONID=\u0000',
    'JSESSIONID=\uFFFF.node1',
    '"JSESSIONID=abc.node1',
    ';'.repeat(1000),
    '='.repeat(1000),
  ];
  for (const header of malformed) {
    it(`malformed cookie ${JSON.stringify(header.slice(0, 24))} never throws`, () => {
      const o = options('JSESSIONID');
      assert.doesNotThrow(() => resolveSticky('/app/page', header, o));
    });
  }

  it('a few malformed headers still give the obvious answer', () => {
    const o = options('JSESSIONID');
    assert.equal(resolveSticky('/app', '=;;;', o), undefined);
    assert.deepEqual(resolveSticky('/app', 'JSESSIONID=\uFFFF.node1', o), cookie('JSESSIONID', 'node1'));
    assert.deepEqual(resolveSticky('/app', 'JSESSIONID==abc.node1', o), cookie('JSESSIONID', 'node1'));
  });

  it('a 16 KiB cookie header resolves to the right value (bounded work)', () => {
    const o = options('JSESSIONID');
    const filler = Array.from({ length: 1000 }, (_, i) => `c${i}=${'v'.repeat(12)}`).join('; ');
    assert.ok(filler.length >= 16 * 1024);
    assert.deepEqual(resolveSticky('/app', `${filler}; JSESSIONID=abc.node2`, o), cookie('JSESSIONID', 'node2'));
    const decoys = 'XJSESSIONID=abc.node1; '.repeat(720);
    assert.ok(decoys.length >= 16 * 1024);
    assert.equal(resolveSticky('/app', decoys, o), undefined);
    assert.deepEqual(resolveSticky('/app', `${decoys}JSESSIONID=abc.node3`, o), cookie('JSESSIONID', 'node3'));
  });

  it('a 16 KiB URL of near-miss path parameters resolves to the right value', () => {
    const o = options('jsessionid');
    // Empty values and near-miss names, each in its own segment (without scolonpathdelim a ";" does
    // not end a path value, only "/" and "&" do).
    const url = `/app${'/;jsessionid=/;xjsessionid=abc.node1'.repeat(500)}/x;jsessionid=abc.node2`;
    assert.ok(url.length >= 16 * 1024);
    assert.deepEqual(resolveSticky(url, undefined, o), path('jsessionid', 'node2'));
  });
});

describe('sticky: scolonpathdelim', () => {
  const sticky = 'jsessionid';
  runTable([
    {
      name: 'off: ;foo=bar stays in the value (oracle: route node2;foo=bar)',
      sticky,
      url: '/app/page;jsessionid=abc.node2;foo=bar',
      expected: path('jsessionid', 'node2;foo=bar'),
    },
    {
      name: 'on: ; ends the value (oracle → b)',
      sticky,
      scolon: true,
      url: '/app/page;jsessionid=abc.node2;foo=bar',
      expected: path('jsessionid', 'node2'),
    },
    {
      name: 'off: a path value ends at &',
      sticky,
      url: '/app/p;jsessionid=abc.node2&x=1',
      expected: path('jsessionid', 'node2'),
    },
    {
      name: 'off: query value keeps ;',
      sticky,
      url: '/app/p?jsessionid=abc.node4;y=2',
      expected: query('jsessionid', 'node4;y=2'),
    },
    {
      name: 'on: query value ends at ;',
      sticky,
      scolon: true,
      url: '/app/p?jsessionid=abc.node4;y=2',
      expected: query('jsessionid', 'node4'),
    },
    {
      name: 'on: ;name= in the query is found',
      sticky,
      scolon: true,
      url: '/app/p?x=1;jsessionid=abc.node4',
      expected: query('jsessionid', 'node4'),
    },
    {
      name: "'On' string",
      sticky,
      scolon: 'On' as unknown as boolean,
      url: '/app/p;jsessionid=abc.node2;x',
      expected: path('jsessionid', 'node2'),
    },
    {
      name: 'on: does not affect cookies (cookie values end at ; anyway)',
      sticky,
      scolon: true,
      cookie: 'jsessionid=abc.node1',
      expected: cookie('jsessionid', 'node1'),
    },
  ]);
});
