/**
 * Configuration validation (lib/config/validate.ts, lib/config/parse.ts): for every balancer and
 * member option one valid value, the boundaries, and an invalid value that must produce a
 * ConfigError with a stable `.code`, the exact `.field` path and a message that shows the bad
 * value and what is allowed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../lib/config/validate.js';
import type { BalancerSpec, MemberSpec } from '../../lib/config/spec.js';
import { Balancer } from '../../lib/balancer/balancer.js';
import { ConfigError, BalancerError } from '../../lib/errors.js';
import { DISABLED, HOT_STANDBY, IN_ERROR, STOPPED, IGNORE_ERRORS, HOT_SPARE, DRAIN } from '../../lib/model/status.js';
import { FakeClock, seededRandom } from '../support/clock.js';

type Obj = Record<string, unknown>;

/** A config whose member under test is members[2] (so paths are checked beyond index 0). */
function withMember(member: Obj): Obj {
  return {
    balancers: [
      {
        name: 't',
        mount: '/app',
        members: [{ url: 'http://a:8080' }, { url: 'http://b:8080' }, { url: 'http://c:8080', ...member }],
      },
    ],
  };
}

function withBalancer(balancer: Obj): Obj {
  return { balancers: [{ name: 't', mount: '/app', members: [{ url: 'http://a:8080' }], ...balancer }] };
}

function specOf(config: Obj): BalancerSpec {
  return validateConfig(config).balancers[0]!;
}

function memberOf(member: Obj): MemberSpec {
  return specOf(withMember(member)).members[2]!;
}

interface Bad {
  config: Obj;
  field: string;
  message: string;
  code?: string;
}

function expectError(c: Bad): void {
  let caught: unknown;
  try {
    validateConfig(c.config);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.ok(caught instanceof BalancerError);
  assert.ok(BalancerError.is(caught));
  assert.equal(caught.name, 'ConfigError');
  assert.equal(caught.code, c.code ?? 'ERR_CONFIG_INVALID');
  assert.equal(caught.field, c.field);
  assert.equal(caught.message, c.message);
  assert.equal(caught.status, 0);
}

const M = 'balancers[0].members[2]';
const B = 'balancers[0]';

describe('member options: valid values and boundaries', () => {
  const cases: [string, Obj, (m: MemberSpec) => unknown, unknown][] = [
    ['loadfactor default 1 → lbfactor 100', {}, (m) => m.lbfactor, 100],
    ['loadfactor 1 (min)', { loadfactor: 1 }, (m) => m.lbfactor, 100],
    ['loadfactor 100 (max)', { loadfactor: 100 }, (m) => m.lbfactor, 10_000],
    ['loadfactor 1.25 kept as hundredths', { loadfactor: 1.25 }, (m) => m.lbfactor, 125],
    ['loadfactor 1.15 → 115 (rounded; Apache truncates to 114)', { loadfactor: 1.15 }, (m) => m.lbfactor, 115],
    ['loadfactor 33.33', { loadfactor: 33.33 }, (m) => m.lbfactor, 3333],
    ['loadfactor 99.99', { loadfactor: 99.99 }, (m) => m.lbfactor, 9999],
    ['loadfactor "2.5" (string, as from a form)', { loadfactor: '2.5' }, (m) => m.lbfactor, 250],
    ['lbset default 0', {}, (m) => m.lbset, 0],
    ['lbset 99 (max)', { lbset: 99 }, (m) => m.lbset, 99],
    ['route', { route: 'node1' }, (m) => m.route, 'node1'],
    ['route of 63 characters (max)', { route: 'r'.repeat(63) }, (m) => m.route.length, 63],
    ['route default ""', {}, (m) => m.route, ''],
    ['redirect', { redirect: 'node2' }, (m) => m.redirect, 'node2'],
    ['retry default 60 s', {}, (m) => m.retryMs, 60_000],
    ['retry "60s"', { retry: '60s' }, (m) => m.retryMs, 60_000],
    ['retry 500 (ms)', { retry: 500 }, (m) => m.retryMs, 500],
    ['retry 0 (retry at once)', { retry: 0 }, (m) => m.retryMs, 0],
    ['retry "500ms"', { retry: '500ms' }, (m) => m.retryMs, 500],
    ['retry "1.5s"', { retry: '1.5s' }, (m) => m.retryMs, 1500],
    ['retry "2m"', { retry: '2m' }, (m) => m.retryMs, 120_000],
    ['retry "24h" (max)', { retry: '24h' }, (m) => m.retryMs, 86_400_000],
    ['retry " 2S " (spaces, upper-case unit)', { retry: ' 2S ' }, (m) => m.retryMs, 2000],
    ['status default none', {}, (m) => m.status, 0],
    ['status "+H"', { status: '+H' }, (m) => m.status, HOT_STANDBY],
    ['status "+D +S"', { status: '+D +S' }, (m) => m.status, DISABLED | STOPPED],
    ['status "DH"', { status: 'DH' }, (m) => m.status, DISABLED | HOT_STANDBY],
    ['status "-E" (clears: nothing set)', { status: '-E' }, (m) => m.status, 0],
    ['status "S-E" (the mode sticks: S set, E cleared)', { status: 'S-E' }, (m) => m.status, STOPPED],
    ['status "+E -E"', { status: '+E -E' }, (m) => m.status, 0],
    ['status "h" (case-insensitive)', { status: 'h' }, (m) => m.status, HOT_STANDBY],
    ['status "+I +R +N +E"', { status: '+I +R +N +E' }, (m) => m.status, IGNORE_ERRORS | HOT_SPARE | DRAIN | IN_ERROR],
    ['timeout default 300 s', {}, (m) => m.timeoutMs, 300_000],
    ['timeout "5s"', { timeout: '5s' }, (m) => m.timeoutMs, 5000],
    ['timeout 1 (min)', { timeout: 1 }, (m) => m.timeoutMs, 1],
    ['connectiontimeout default: 10 s', {}, (m) => m.connectTimeoutMs, 10_000],
    ['connectiontimeout default: the timeout when shorter', { timeout: '5s' }, (m) => m.connectTimeoutMs, 5000],
    ['connectiontimeout "2s"', { connectiontimeout: '2s' }, (m) => m.connectTimeoutMs, 2000],
    ['connectiontimeout 1 (min)', { connectiontimeout: 1 }, (m) => m.connectTimeoutMs, 1],
    ['max default 256', {}, (m) => m.max, 256],
    ['max 1 (min)', { max: 1 }, (m) => m.max, 1],
    ['max 65535 (max)', { max: 65_535 }, (m) => m.max, 65_535],
    [
      'tls on an https member',
      { url: 'https://c:8443', tls: { rejectUnauthorized: false } },
      (m) => m.tls,
      { rejectUnauthorized: false },
    ],
    ['tls default undefined', {}, (m) => m.tls, undefined],
    [
      'name: origin plus base path, no trailing slash',
      { url: 'http://c:8080/app/' },
      (m) => [m.name, m.basePath],
      ['http://c:8080/app', '/app'],
    ],
    ['name: default port dropped', { url: 'http://c:80' }, (m) => m.name, 'http://c'],
    ['name: host lower-cased', { url: 'http://C:8080' }, (m) => m.name, 'http://c:8080'],
    [
      'IPv6 http://[::1]:8080',
      { url: 'http://[::1]:8080' },
      (m) => [m.name, m.url.hostname, m.url.port, m.basePath],
      ['http://[::1]:8080', '[::1]', '8080', ''],
    ],
  ];
  for (const [name, member, get, expected] of cases) {
    it(name, () => {
      assert.deepEqual(get(memberOf(member)), expected);
    });
  }
});

describe('member options: invalid values', () => {
  const duration = 'is not a duration: use milliseconds (60000) or a unit ("60s", "500ms")';
  const token = 'is not a token of at most 63 visible ASCII characters without ; , | =';
  const cases: [string, Obj, string, string][] = [
    ['loadfactor 0', { loadfactor: 0 }, 'loadfactor', '0 is not in 1..100'],
    ['loadfactor 0.99', { loadfactor: 0.99 }, 'loadfactor', '0.99 is not in 1..100'],
    ['loadfactor 100.01', { loadfactor: 100.01 }, 'loadfactor', '100.01 is not in 1..100'],
    ['loadfactor -1', { loadfactor: -1 }, 'loadfactor', '-1 is not in 1..100'],
    ['loadfactor NaN', { loadfactor: NaN }, 'loadfactor', 'NaN is not in 1..100'],
    ['loadfactor Infinity', { loadfactor: Infinity }, 'loadfactor', 'Infinity is not in 1..100'],
    ['loadfactor "abc"', { loadfactor: 'abc' }, 'loadfactor', '"abc" is not in 1..100'],
    ['loadfactor ""', { loadfactor: '' }, 'loadfactor', '"" is not in 1..100'],
    ['loadfactor true', { loadfactor: true }, 'loadfactor', 'true is not in 1..100'],
    [
      'loadfactor 1.155 (three decimals)',
      { loadfactor: 1.155 },
      'loadfactor',
      '1.155 has more than two decimals (1..100, e.g. 1.25)',
    ],
    ['lbset 100', { lbset: 100 }, 'lbset', '100 is not an integer in 0..99'],
    ['lbset -1', { lbset: -1 }, 'lbset', '-1 is not an integer in 0..99'],
    ['lbset 1.5', { lbset: 1.5 }, 'lbset', '1.5 is not an integer in 0..99'],
    ['lbset "1"', { lbset: '1' }, 'lbset', '"1" is not an integer in 0..99'],
    ['route of 64 characters', { route: 'r'.repeat(64) }, 'route', `"${'r'.repeat(64)}" ${token}`],
    ['route with ;', { route: 'a;b' }, 'route', `"a;b" ${token}`],
    ['route with |', { route: 'a|b' }, 'route', `"a|b" ${token}`],
    ['route with =', { route: 'a=b' }, 'route', `"a=b" ${token}`],
    ['route with ,', { route: 'a,b' }, 'route', `"a,b" ${token}`],
    ['route with a space', { route: 'a b' }, 'route', `"a b" ${token}`],
    ['route with non-ASCII', { route: 'nöde' }, 'route', `"nöde" ${token}`],
    ['route not a string', { route: 1 }, 'route', `1 ${token}`],
    ['redirect with <', { redirect: '<x> y' }, 'redirect', `"<x> y" ${token}`],
    ['retry "60" (bare number string: unit unclear)', { retry: '60' }, 'retry', `"60" ${duration}`],
    ['retry "60 seconds"', { retry: '60 seconds' }, 'retry', `"60 seconds" ${duration}`],
    ['retry "-1s"', { retry: '-1s' }, 'retry', `"-1s" ${duration}`],
    ['retry -1', { retry: -1 }, 'retry', '-1 is not in 0..86400000 ms'],
    ['retry "25h" (above 24 h)', { retry: '25h' }, 'retry', '"25h" is not in 0..86400000 ms'],
    ['retry NaN', { retry: NaN }, 'retry', 'NaN is not in 0..86400000 ms'],
    ['retry true', { retry: true }, 'retry', `true ${duration}`],
    ['timeout 0', { timeout: 0 }, 'timeout', '0 is not in 1..86400000 ms'],
    ['timeout "0s"', { timeout: '0s' }, 'timeout', '"0s" is not in 1..86400000 ms'],
    ['connectiontimeout 0', { connectiontimeout: 0 }, 'connectiontimeout', '0 is not in 1..86400000 ms'],
    ['max 0', { max: 0 }, 'max', '0 is not an integer in 1..65535'],
    ['max 65536', { max: 65_536 }, 'max', '65536 is not an integer in 1..65535'],
    ['status "X"', { status: 'X' }, 'status', '"X" uses a letter other than D S I H R N E (Apache status flags)'],
    [
      'status "+C" (health check state, not configurable)',
      { status: '+C' },
      'status',
      '"+C" uses a letter other than D S I H R N E (Apache status flags)',
    ],
    ['status 5', { status: 5 }, 'status', '5 is not a status string such as "+H" or "+D +S"'],
    [
      'tls on an http member',
      { tls: { ca: 'x' } },
      'tls',
      '{"ca":"x"} is only for https:// members and must be an object',
    ],
    [
      'tls not an object',
      { url: 'https://c:8443', tls: 'yes' },
      'tls',
      '"yes" is only for https:// members and must be an object',
    ],
    ['url missing', { url: undefined }, 'url', 'undefined is not an absolute http:// or https:// URL'],
    ['url not absolute', { url: '/app' }, 'url', '"/app" is not an absolute http:// or https:// URL'],
    [
      'url ftp',
      { url: 'ftp://c' },
      'url',
      '"ftp://c" is not an http:// or https:// URL (other schemes are refused, cf. CVE-2021-40438)',
    ],
    [
      'url unix socket (CVE-2021-40438)',
      { url: 'unix:/run/x.sock|http://c' },
      'url',
      '"unix:/run/x.sock|http://c" is not an http:// or https:// URL (other schemes are refused, cf. CVE-2021-40438)',
    ],
    [
      'url with credentials',
      { url: 'http://u:p@c' },
      'url',
      '"http://u:p@c" must be scheme://host[:port][/base] without credentials, query or fragment',
    ],
    [
      'url with a query',
      { url: 'http://c/?x=1' },
      'url',
      '"http://c/?x=1" must be scheme://host[:port][/base] without credentials, query or fragment',
    ],
    [
      'url with a fragment',
      { url: 'http://c/#x' },
      'url',
      '"http://c/#x" must be scheme://host[:port][/base] without credentials, query or fragment',
    ],
    [
      'url IPv6 without brackets',
      { url: 'http://::1:8080' },
      'url',
      '"http://::1:8080" is not an absolute http:// or https:// URL',
    ],
    [
      'unknown key with a near miss',
      { loadFactor: 2 },
      'loadFactor',
      '2 is not an option (did you mean "loadfactor"?)',
    ],
    ['unknown key RETRY', { RETRY: '1s' }, 'RETRY', '"1s" is not an option (did you mean "retry"?)'],
    ['unknown key without a near miss', { weight: 2 }, 'weight', '2 is not an option'],
  ];
  for (const [name, member, key, tail] of cases) {
    it(name, () => {
      expectError({ config: withMember(member), field: `${M}.${key}`, message: `${M}.${key}: ${tail}` });
    });
  }

  it('a member that is not an object', () => {
    const config = { balancers: [{ name: 't', mount: '/app', members: [{ url: 'http://a:8080' }, 'http://b:8080'] }] };
    expectError({
      config,
      field: `${B}.members[1]`,
      message: `${B}.members[1]: "http://b:8080" is not a member object with a url`,
    });
  });
});

describe('duplicate member URLs', () => {
  const cases: [string, string, string][] = [
    ['identical', 'http://a:8080', 'http://a:8080'],
    ['trailing slash', 'http://a:8080', 'http://a:8080/'],
    ['host case', 'http://a:8080', 'http://A:8080'],
    ['default port spelled out', 'http://a', 'http://a:80'],
    ['same base path', 'http://a:8080/app', 'http://a:8080/app/'],
    ['IPv6 spellings', 'http://[::1]:8080', 'http://[0:0:0:0:0:0:0:1]:8080'],
  ];
  for (const [name, first, second] of cases) {
    it(`${name}: ${first} and ${second}`, () => {
      const config = { balancers: [{ name: 't', mount: '/app', members: [{ url: first }, { url: second }] }] };
      expectError({
        config,
        code: 'ERR_CONFIG_DUPLICATE',
        field: `${B}.members[1].url`,
        message: `${B}.members[1].url: "${second}" is used by another member`,
      });
    });
  }

  it('different base paths or schemes on one host are different members', () => {
    const spec = specOf({
      balancers: [
        {
          name: 't',
          mount: '/app',
          members: [
            { url: 'http://a:8080/x' },
            { url: 'http://a:8080/y' },
            { url: 'http://a:8080' },
            { url: 'https://a:8080' },
          ],
        },
      ],
    });
    assert.deepEqual(
      spec.members.map((m) => m.name),
      ['http://a:8080/x', 'http://a:8080/y', 'http://a:8080', 'https://a:8080'],
    );
  });
});

describe('balancer options: valid values and boundaries', () => {
  const cases: [string, Obj, (b: BalancerSpec) => unknown, unknown][] = [
    ['name lower-cased', { name: 'MyApp' }, (b) => b.name, 'myapp'],
    ['name of 95 characters (max)', { name: 'n'.repeat(95) }, (b) => b.name.length, 95],
    ['name with . _ ~ -', { name: 'a.b_c~d-e' }, (b) => b.name, 'a.b_c~d-e'],
    ['mount "/"', { mount: '/' }, (b) => b.mount, '/'],
    ['mount "/app/"', { mount: '/app/' }, (b) => b.mount, '/app/'],
    ['path default "/"', {}, (b) => b.path, '/'],
    ['path "/base"', { path: '/base' }, (b) => b.path, '/base'],
    ['lbmethod default byrequests', {}, (b) => b.lbmethod, 'byrequests'],
    ['lbmethod bytraffic', { lbmethod: 'bytraffic' }, (b) => b.lbmethod, 'bytraffic'],
    ['lbmethod bybusyness', { lbmethod: 'bybusyness' }, (b) => b.lbmethod, 'bybusyness'],
    ['maxattempts default undefined', {}, (b) => b.maxattempts, undefined],
    ['maxattempts 0 (min)', { maxattempts: 0 }, (b) => b.maxattempts, 0],
    ['maxattempts 99 (max)', { maxattempts: 99 }, (b) => b.maxattempts, 99],
    ['nofailover default false', {}, (b) => b.nofailover, false],
    ['nofailover "On"', { nofailover: 'On' }, (b) => b.nofailover, true],
    ['nofailover "off"', { nofailover: 'off' }, (b) => b.nofailover, false],
    ['stickysession default none', {}, (b) => b.sticky, undefined],
    [
      'stickysession one name',
      { stickysession: 'JSESSIONID' },
      (b) => b.sticky,
      { cookie: 'JSESSIONID', param: 'JSESSIONID' },
    ],
    [
      'stickysession A|B',
      { stickysession: 'JSESSIONID|jsessionid' },
      (b) => b.sticky,
      { cookie: 'JSESSIONID', param: 'jsessionid' },
    ],
    ['stickysession "A | B" trimmed', { stickysession: 'A | B' }, (b) => b.sticky, { cookie: 'A', param: 'B' }],
    ['stickysession "-" (none, as the manager)', { stickysession: '-' }, (b) => b.sticky, undefined],
    ['stickysession ""', { stickysession: '' }, (b) => b.sticky, undefined],
    ['stickysession of 63 characters', { stickysession: 's'.repeat(63) }, (b) => b.sticky?.cookie.length, 63],
    ['stickysessionsep default "."', {}, (b) => b.stickysessionsep, '.'],
    ['stickysessionsep "!"', { stickysessionsep: '!' }, (b) => b.stickysessionsep, '!'],
    ['stickysessionsep "_"', { stickysessionsep: '_' }, (b) => b.stickysessionsep, '_'],
    ['stickysessionsep false (off)', { stickysessionsep: false }, (b) => b.stickysessionsep, undefined],
    ['stickysessionsep "Off"', { stickysessionsep: 'Off' }, (b) => b.stickysessionsep, undefined],
    ['scolonpathdelim default false', {}, (b) => b.scolonpathdelim, false],
    ['scolonpathdelim true', { scolonpathdelim: true }, (b) => b.scolonpathdelim, true],
    ['timeout default 0', {}, (b) => b.timeoutMs, 0],
    ['timeout "1s"', { timeout: '1s' }, (b) => b.timeoutMs, 1000],
    ['timeout "2h" (max 7200 s)', { timeout: '2h' }, (b) => b.timeoutMs, 7_200_000],
    ['failonstatus default empty', {}, (b) => [...b.failonstatus], []],
    ['failonstatus "500,503"', { failonstatus: '500,503' }, (b) => [...b.failonstatus], [500, 503]],
    ['failonstatus "500 503"', { failonstatus: '500 503' }, (b) => [...b.failonstatus], [500, 503]],
    ['failonstatus [100, 599] (bounds)', { failonstatus: [100, 599] }, (b) => [...b.failonstatus], [100, 599]],
    ['failontimeout "On"', { failontimeout: 'On' }, (b) => b.failontimeout, true],
    ['forcerecovery default true', {}, (b) => b.forcerecovery, true],
    ['forcerecovery false', { forcerecovery: false }, (b) => b.forcerecovery, false],
    ['growth default 0', {}, (b) => b.growth, 0],
    ['growth 1000 (max)', { growth: 1000 }, (b) => b.growth, 1000],
    ['no members with growth', { members: [], growth: 1 }, (b) => b.members.length, 0],
    ['nonce of 16 characters', { nonce: 'a'.repeat(16) }, (b) => b.nonce, 'a'.repeat(16)],
    [
      'nonce UUID',
      { nonce: '0e4ad3a4-5c5e-4b8a-9d3f-1b2c3d4e5f60' },
      (b) => b.nonce,
      '0e4ad3a4-5c5e-4b8a-9d3f-1b2c3d4e5f60',
    ],
  ];
  for (const [name, balancer, get, expected] of cases) {
    it(name, () => {
      assert.deepEqual(get(specOf(withBalancer(balancer))), expected);
    });
  }
});

describe('balancer options: invalid values', () => {
  const bool = 'is not a boolean (true/false or "On"/"Off")';
  const mount = 'is not an absolute path without query, fragment or dot segments (e.g. "/app")';
  const sep = 'is not one visible character other than "=" and ";", or false (off)';
  const cases: [string, Obj, string, string, string?][] = [
    ['name ""', { name: '' }, 'name', '"" is not 1..95 letters, digits or . _ ~ -'],
    [
      'name of 96 characters',
      { name: 'n'.repeat(96) },
      'name',
      `"${'n'.repeat(96)}" is not 1..95 letters, digits or . _ ~ -`,
    ],
    ['name with a space', { name: 'a b' }, 'name', '"a b" is not 1..95 letters, digits or . _ ~ -'],
    ['name with a scheme', { name: 'balancer://a' }, 'name', '"balancer://a" is not 1..95 letters, digits or . _ ~ -'],
    ['mount relative', { mount: 'app' }, 'mount', `"app" ${mount}`],
    ['mount with a query', { mount: '/app?x' }, 'mount', `"/app?x" ${mount}`],
    ['mount with ..', { mount: '/a/../b' }, 'mount', `"/a/../b" ${mount}`],
    ['mount with a trailing .', { mount: '/a/.' }, 'mount', `"/a/." ${mount}`],
    ['mount missing', { mount: undefined }, 'mount', `undefined ${mount}`],
    ['path relative', { path: 'base' }, 'path', `"base" ${mount}`],
    ['maxattempts 100', { maxattempts: 100 }, 'maxattempts', '100 is not an integer in 0..99'],
    ['maxattempts -1', { maxattempts: -1 }, 'maxattempts', '-1 is not an integer in 0..99'],
    ['nofailover "yes"', { nofailover: 'yes' }, 'nofailover', `"yes" ${bool}`],
    ['nofailover 1', { nofailover: 1 }, 'nofailover', `1 ${bool}`],
    ['scolonpathdelim "true"', { scolonpathdelim: 'true' }, 'scolonpathdelim', `"true" ${bool}`],
    ['failontimeout "ON"', { failontimeout: 'ON' }, 'failontimeout', `"ON" ${bool}`],
    ['forcerecovery null', { forcerecovery: null }, 'forcerecovery', `null ${bool}`],
    [
      'stickysession A|B|C',
      { stickysession: 'a|b|c' },
      'stickysession',
      '"a|b|c" has more than one "|" (use "COOKIE|URLPARAM")',
    ],
    ['stickysession |B', { stickysession: '|x' }, 'stickysession', '"|x" has an empty name (use "COOKIE|URLPARAM")'],
    [
      'stickysession with =',
      { stickysession: 'a=b' },
      'stickysession',
      '"a=b" is not a token of at most 63 visible ASCII characters without ; , | =',
    ],
    [
      'stickysession of 64 characters',
      { stickysession: 's'.repeat(64) },
      'stickysession',
      `"${'s'.repeat(64)}" is not a token of at most 63 visible ASCII characters without ; , | =`,
    ],
    ['stickysession not a string', { stickysession: 1 }, 'stickysession', '1 is not a name or "COOKIE|URLPARAM"'],
    ['stickysessionsep ".."', { stickysessionsep: '..' }, 'stickysessionsep', `".." ${sep}`],
    ['stickysessionsep "="', { stickysessionsep: '=' }, 'stickysessionsep', `"=" ${sep}`],
    ['stickysessionsep ";"', { stickysessionsep: ';' }, 'stickysessionsep', `";" ${sep}`],
    ['stickysessionsep " "', { stickysessionsep: ' ' }, 'stickysessionsep', `" " ${sep}`],
    ['stickysessionsep ""', { stickysessionsep: '' }, 'stickysessionsep', `"" ${sep}`],
    ['stickysessionsep true', { stickysessionsep: true }, 'stickysessionsep', `true ${sep}`],
    [
      'timeout "60" (bare number string)',
      { timeout: '60' },
      'timeout',
      '"60" is not a duration: use milliseconds (60000) or a unit ("60s", "500ms")',
    ],
    ['timeout above 7200 s', { timeout: '121m' }, 'timeout', '"121m" is not in 0..7200000 ms'],
    ['timeout 7200001', { timeout: 7_200_001 }, 'timeout', '7200001 is not in 0..7200000 ms'],
    [
      'failonstatus 600',
      { failonstatus: '600' },
      'failonstatus',
      '"600" is not a list of HTTP status codes (100..599)',
    ],
    [
      'failonstatus 99 in a list',
      { failonstatus: [500, 99] },
      'failonstatus',
      '[500,99] is not a list of HTTP status codes (100..599)',
    ],
    [
      'failonstatus words',
      { failonstatus: 'server errors' },
      'failonstatus',
      '"server errors" is not a list of HTTP status codes (100..599)',
    ],
    ['failonstatus a number', { failonstatus: 500 }, 'failonstatus', '500 is not a list of HTTP status codes'],
    ['growth 1001', { growth: 1001 }, 'growth', '1001 is not an integer in 0..1000'],
    [
      'no members, no growth',
      { members: [] },
      'members',
      '[] is empty (add members, or growth for workers added at run time)',
    ],
    ['members not an array', { members: 'x' }, 'members', '"x" is not an array of members'],
    [
      'unknown key with a near miss',
      { stickySession: 'x' },
      'stickySession',
      '"x" is not an option (did you mean "stickysession"?)',
    ],
    ['unknown key LBMethod', { LBMethod: 'x' }, 'LBMethod', '"x" is not an option (did you mean "lbmethod"?)'],
    ['unknown key without a near miss', { balancer_timeout: 1 }, 'balancer_timeout', '1 is not an option'],
  ];
  for (const [name, balancer, key, tail] of cases) {
    it(name, () => {
      expectError({ config: withBalancer(balancer), field: `${B}.${key}`, message: `${B}.${key}: ${tail}` });
    });
  }

  it('lbmethod unknown → ERR_SCHEDULER_UNKNOWN naming the registered ones', () => {
    let caught: unknown;
    try {
      validateConfig(withBalancer({ lbmethod: 'roundrobin' }));
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof ConfigError);
    assert.equal(caught.code, 'ERR_SCHEDULER_UNKNOWN');
    assert.equal(caught.field, `${B}.lbmethod`);
    assert.match(caught.message, /^balancers\[0\]\.lbmethod: "roundrobin" is not a registered scheduler \(.*\)$/);
    for (const name of ['byrequests', 'bytraffic', 'bybusyness']) assert.ok(caught.message.includes(name), name);
  });

  it('a bad nonce is reported without echoing it', () => {
    const secret = 'tooShortSecret';
    expectError({
      config: withBalancer({ nonce: secret }),
      field: `${B}.nonce`,
      message: `${B}.nonce: "(hidden)" is not 16..64 letters, digits or "-"`,
    });
  });

  it('duplicate balancer names (names are lower-cased first)', () => {
    const config = {
      balancers: [
        { name: 'App', mount: '/a', members: [{ url: 'http://a:8080' }] },
        { name: 'app', mount: '/b', members: [{ url: 'http://b:8080' }] },
      ],
    };
    expectError({
      config,
      code: 'ERR_CONFIG_DUPLICATE',
      field: 'balancers[1].name',
      message: 'balancers[1].name: "app" is used by another balancer',
    });
  });

  it('reports the path of the failing balancer and member', () => {
    const config = {
      balancers: [
        { name: 'one', mount: '/one', members: [{ url: 'http://a:8080' }] },
        { name: 'two', mount: '/two', members: [{ url: 'http://a:8080' }, { url: 'http://b:8080', lbset: 'x' }] },
      ],
    };
    expectError({
      config,
      field: 'balancers[1].members[1].lbset',
      message: 'balancers[1].members[1].lbset: "x" is not an integer in 0..99',
    });
  });
});

describe('top level', () => {
  const cases: [string, unknown, string, string][] = [
    ['not an object', 'x', 'config', 'config: "x" is not an object with a "balancers" array'],
    ['null', null, 'config', 'config: null is not an object with a "balancers" array'],
    ['no balancers', {}, 'balancers', 'balancers: undefined is not a non-empty array of balancers'],
    ['empty balancers', { balancers: [] }, 'balancers', 'balancers: [] is not a non-empty array of balancers'],
    [
      'a balancer that is not an object',
      { balancers: [1] },
      'balancers[0]',
      'balancers[0]: 1 is not a balancer object',
    ],
    [
      'unknown top-level key',
      { balancers: [], preservehost: true },
      'config.preservehost',
      'config.preservehost: true is not an option (did you mean "preserveHost"?)',
    ],
  ];
  for (const [name, config, field, message] of cases) {
    it(name, () => {
      expectError({ config: config as Obj, field, message });
    });
  }
});

describe('balancer defaults derived from the spec', () => {
  const balancer = (members: number, extra: Obj = {}): Balancer => {
    const list = Array.from({ length: members }, (_, i) => ({ url: `http://m${i}:8080` }));
    return new Balancer(specOf(withBalancer({ members: list, ...extra })), new FakeClock(), seededRandom(1));
  };
  it('maxattempts default: members − 1', () => {
    assert.equal(balancer(4).maxAttempts, 3);
  });
  it('maxattempts default for a single member: 0 (no failover)', () => {
    assert.equal(balancer(1).maxAttempts, 0);
  });
  it('explicit maxattempts wins', () => {
    assert.equal(balancer(4, { maxattempts: 1 }).maxAttempts, 1);
    assert.equal(balancer(4, { maxattempts: 0 }).maxAttempts, 0);
  });
  it('id is balancer://name, lower-cased', () => {
    assert.equal(balancer(1, { name: 'MyApp' }).id, 'balancer://myapp');
  });
  it('workers keep config order and loadfactor', () => {
    const b = new Balancer(specOf(withMember({ loadfactor: 2.5 })), new FakeClock(), seededRandom(1));
    assert.deepEqual(
      b.workers.map((w) => [w.name, w.loadfactor]),
      [
        ['http://a:8080', 1],
        ['http://b:8080', 1],
        ['http://c:8080', 2.5],
      ],
    );
  });
});
