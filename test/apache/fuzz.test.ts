/**
 * Hostile configuration text: fixed-seed random mixes of real directives, section brackets, quotes,
 * backslashes, variables and bytes. fromApacheConfig either returns or throws a ConfigError naming
 * a file and line; nothing else escapes, and nothing hangs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, fromApacheConfig } from '../../lib/index.js';
import { seededRandom } from '../support/clock.js';

const PIECES = [
  '<Proxy balancer://x>',
  '<Proxy "balancer://x">',
  '</Proxy>',
  '<VirtualHost *:80>',
  '</VirtualHost>',
  '<Location /m>',
  '</Location>',
  '<IfModule mod_proxy.c>',
  '<IfModule !x>',
  '</IfModule>',
  '<IfDefine X>',
  '</IfDefine>',
  'Define X 1',
  'Define',
  'UnDefine X',
  'BalancerMember http://127.0.0.1:1',
  'BalancerMember balancer://x http://127.0.0.1:2 route=r loadfactor=2 retry=5',
  'BalancerMember ${X}',
  'BalancerMember',
  'ProxySet lbmethod=bytraffic stickysession=S',
  'ProxySet http://127.0.0.1:1 status=+H',
  'ProxySet',
  'ProxyPass / balancer://x/',
  'ProxyPass /a !',
  'ProxyPass',
  'ProxyPass balancer://x/',
  'ProxyPassReverse / balancer://x/',
  'ProxyHCExpr e {%{REQUEST_STATUS} =~ /^[2/}',
  'ProxyHCExpr e {',
  'BalancerMember http://127.0.0.1:3 hcmethod=GET hcexpr=e',
  'SetHandler balancer-manager',
  'Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/"',
  'Header set X "%{BALANCER_NAME}e"',
  'Listen 80',
  'ProxyTimeout 5',
  'BalancerGrowth x',
  'Include',
  '# comment',
  '"',
  "'",
  '\\',
  '<',
  '>',
  '</>',
  '<>',
  '${',
  '${}',
  '=',
  'key==value',
];
const CHARS = ' \t\\"\'<>/{}$=#\n\r\x00é\u2028azAZ09:.|!*?[]';

const VALID = ['<Proxy balancer://x>', 'BalancerMember http://127.0.0.1:1', '</Proxy>', 'ProxyPass / balancer://x/'];

/** Kept as written: a mutated Include could name a real folder of this machine. */
const INCLUDES = ['Include none/*.conf', 'IncludeOptional none/x.conf', 'Include none.conf'];

function line(rand: () => number): string {
  const r = rand();
  if (r < 0.03) return INCLUDES[Math.floor(rand() * INCLUDES.length)]!;
  if (r < 0.75) {
    let s = PIECES[Math.floor(rand() * PIECES.length)]!;
    if (rand() < 0.3) {
      const at = Math.floor(rand() * (s.length + 1));
      s = s.slice(0, at) + CHARS[Math.floor(rand() * CHARS.length)]! + s.slice(at);
    }
    if (rand() < 0.1) s += ' \\';
    return s;
  }
  let s = '';
  const n = Math.floor(rand() * 20);
  for (let i = 0; i < n; i++) s += CHARS[Math.floor(rand() * CHARS.length)]!;
  return s;
}

describe('fromApacheConfig: hostile input', () => {
  it('4000 random configurations: a result or a ConfigError naming a file and line, nothing else', () => {
    const rand = seededRandom(0x5eed21);
    let returned = 0;
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      // Half start from a working balancer, so the later stages see hostile input too.
      const lines: string[] = rand() < 0.5 ? [...VALID] : [];
      const n = 1 + Math.floor(rand() * (lines.length ? 6 : 25));
      for (let j = 0; j < n; j++) lines.push(line(rand));
      const text = lines.join(rand() < 0.2 ? '\r\n' : '\n');
      try {
        const r = fromApacheConfig(text, { file: 'fuzz.conf', baseDir: '/nonexistent', strict: rand() < 0.1 });
        assert.ok(r.config.balancers.length > 0);
        for (const w of r.warnings) assert.match(`${w.file}:${w.line}`, /^(fuzz\.conf|\/nonexistent\/.*):\d+$/);
        returned++;
      } catch (err) {
        if (!(err instanceof ConfigError)) assert.fail(`case ${i} threw ${String(err)} for ${JSON.stringify(text)}`);
        assert.match(err.field, /^fuzz\.conf:\d+$/, `case ${i}: ${err.message}`);
        refused++;
      }
    }
    assert.equal(returned + refused, 4000);
    // Both outcomes occur, so the generator reaches the importer's whole way through.
    assert.ok(returned > 50, `returned ${returned}`);
    assert.ok(refused > 50, `refused ${refused}`);
  });

  it('a long line, deep nesting and a huge file are handled without a stack overflow', () => {
    const deep = '<IfModule x>\n'.repeat(5000) + '</IfModule>\n'.repeat(5000);
    assert.throws(() => fromApacheConfig(deep, { file: 'f' }), ConfigError);
    const wide = `BalancerMember balancer://x http://127.0.0.1:1 ${'a=b '.repeat(50_000)}\nProxyPass / balancer://x/\n`;
    const r = fromApacheConfig(wide, { file: 'f' });
    assert.equal(r.warnings.length, 50_000);
    assert.throws(() => fromApacheConfig('"'.repeat(100_000), { file: 'f' }), ConfigError);
    assert.throws(() => fromApacheConfig(42 as unknown as string), ConfigError);
  });
});
