/**
 * fromApacheConfig: each directive that concerns the balancer carried over in our units, or named in
 * a warning with its file, line and reason; syntax errors thrown as ConfigError naming file and line.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, fromApacheConfig, type ApacheImport, type MemberOptions } from '../../lib/index.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'epb-apache-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const conf = (...lines: string[]): string => lines.join('\n') + '\n';
const imp = (text: string): ApacheImport => fromApacheConfig(text, { file: 'h.conf' });
const warned = (r: ApacheImport): string[] => r.warnings.map((w) => `${w.file}:${w.line} ${w.directive}: ${w.message}`);

function throwsAt(fn: () => unknown, field: string, why: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.field, field);
    assert.match(err.message, why);
    return true;
  });
}

const BASIC = [
  '<Proxy "balancer://App">',
  '  BalancerMember http://127.0.0.1:8081 route=n1 loadfactor=1.5 retry=30 timeout=500ms connectiontimeout=2',
  '  BalancerMember http://127.0.0.1:8082 route=n2 status=+H lbset=1 max=20',
  '  ProxySet lbmethod=bybusyness stickysession=JSESSIONID|jsessionid nofailover=On timeout=5 failonstatus=500,503',
  '</Proxy>',
  'ProxyPass "/app/" "balancer://app/" maxattempts=1',
];

describe('fromApacheConfig: balancers, members and units', () => {
  it('carries a <Proxy> block, its ProxySet and the ProxyPass parameters over, seconds as durations', () => {
    const r = imp(conf(...BASIC));
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config, {
      balancers: [
        {
          name: 'app',
          mount: '/app/',
          lbmethod: 'bybusyness',
          stickysession: 'JSESSIONID|jsessionid',
          nofailover: true,
          timeout: '5s',
          failonstatus: '500,503',
          maxattempts: 1,
          members: [
            {
              url: 'http://127.0.0.1:8081',
              route: 'n1',
              loadfactor: 1.5,
              retry: '30s',
              timeout: '500ms',
              connectiontimeout: '2s',
            },
            { url: 'http://127.0.0.1:8082', route: 'n2', status: '+H', lbset: 1, max: 20 },
          ],
        },
      ],
    });
  });

  it('BalancerMember and ProxySet naming the balancer outside <Proxy>; ProxySet on a member URL', () => {
    const r = imp(
      conf(
        'BalancerMember balancer://b http://10.0.0.1:80/base',
        'BalancerMember balancer://b http://10.0.0.2:80/base retry=2mi',
        'ProxySet balancer://b stickysessionsep=Off scolonpathdelim=on forcerecovery=Off growth=2',
        'ProxySet http://10.0.0.2:80/base hcmethod=HEAD hcinterval=10 status=-D+N',
        'ProxyPass /b balancer://b/inner',
      ),
    );
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.balancers[0], {
      name: 'b',
      mount: '/b',
      path: '/inner',
      stickysessionsep: false,
      scolonpathdelim: true,
      forcerecovery: false,
      growth: 2,
      members: [
        { url: 'http://10.0.0.1:80/base' },
        { url: 'http://10.0.0.2:80/base', retry: '2m', hcmethod: 'HEAD', hcinterval: '10s', status: '+N' },
      ],
    });
  });

  it('ProxyPass inside <Location> takes the location as its path; ProxyPreserveHost, ProxyAddHeaders, ServerName', () => {
    const r = imp(
      conf(
        'ServerName https://www.example.com:443',
        'ProxyPreserveHost On',
        'ProxyAddHeaders off',
        '<Proxy balancer://x>',
        'BalancerMember http://127.0.0.1:1',
        '</Proxy>',
        '<Location /shop>',
        '  ProxyPass balancer://x/ stickysession=ROUTEID',
        '</Location>',
      ),
    );
    assert.deepEqual(r.warnings, []);
    assert.equal(r.config.preserveHost, true);
    assert.equal(r.config.xForwarded, false);
    assert.equal(r.config.serverName, 'www.example.com');
    assert.equal(r.config.balancers[0]!.mount, '/shop');
    assert.equal(r.config.balancers[0]!.stickysession, 'ROUTEID');
  });

  it('ProxyPassReverse on the balancer URL or on a member URL turns proxypassreverse on; elsewhere it is reported', () => {
    const r = imp(
      conf(
        ...BASIC,
        'ProxyPassReverse /app/ balancer://app/',
        '<Proxy balancer://two>',
        'BalancerMember http://127.0.0.1:5/base',
        '</Proxy>',
        'ProxyPass /two/ balancer://two/',
        'ProxyPassReverse /two/ http://127.0.0.1:5/base/',
        'ProxyPassReverse /x/ http://10.9.9.9/',
      ),
    );
    assert.deepEqual(
      r.config.balancers.map((b) => [b.name, b.proxypassreverse]),
      [
        ['app', true],
        ['two', true],
      ],
    );
    assert.deepEqual(warned(r), [
      'h.conf:13 ProxyPassReverse: http://10.9.9.9/ is neither a balancer:// URL nor a member of one',
    ]);
    assert.equal(imp(conf(...BASIC)).config.balancers[0]!.proxypassreverse, undefined);
  });

  it('ProxyTimeout is the timeout of every member without its own; BalancerGrowth of every balancer without growth', () => {
    const r = imp(
      conf(
        'ProxyTimeout 45',
        'BalancerGrowth 3',
        '<Proxy balancer://x>',
        'BalancerMember http://127.0.0.1:1',
        'BalancerMember http://127.0.0.1:2 timeout=5',
        '</Proxy>',
        'ProxyPass / balancer://x/',
      ),
    );
    assert.deepEqual(
      r.config.balancers[0]!.members.map((m) => m.timeout),
      ['45s', '5s'],
    );
    assert.equal(r.config.balancers[0]!.growth, 3);
  });

  it('status letters we do not have and unsupported parameters are reported on their line', () => {
    const r = imp(
      conf(
        '<Proxy balancer://x>',
        'BalancerMember http://127.0.0.1:1 status=+C ping=1 smax=3 upgrade=websocket bogus=1',
        'ProxySet lbmethod=heartbeat nonce=None retry=3',
        '</Proxy>',
        'ProxyPass / balancer://x/ nocanon',
      ),
    );
    assert.deepEqual(warned(r), [
      'h.conf:2 BalancerMember: status letter C not carried over (D S I H R N E are)',
      'h.conf:2 BalancerMember: ping=1 is not supported (no Expect: 100-continue probe)',
      'h.conf:2 BalancerMember: smax=3 is not supported',
      'h.conf:2 BalancerMember: upgrade=websocket is not needed: WebSocket upgrades are proxied when the server is attached (`middleware.attach(server)`)',
      'h.conf:2 BalancerMember: bogus=1 is not a BalancerMember parameter',
      'h.conf:3 ProxySet: lbmethod=heartbeat is not provided (it needs mod_heartbeat on the workers): register a scheduler',
      'h.conf:3 ProxySet: nonce=None is not supported: the manager always requires a nonce',
      'h.conf:3 ProxySet: retry=3 is a member parameter: set it on each BalancerMember',
      'h.conf:5 ProxyPass: the nocanon flag is not supported',
    ]);
    assert.deepEqual(r.config.balancers[0]!.members, [{ url: 'http://127.0.0.1:1' }]);
  });

  it('ProxyPassMatch, ajp/fcgi/unix members and URLs, a second mount, exclusions are reported, never guessed', () => {
    const r = imp(
      conf(
        '<Proxy balancer://x>',
        'BalancerMember http://127.0.0.1:1',
        'BalancerMember ajp://127.0.0.1:8009',
        'BalancerMember "unix:/run/app.sock|http://localhost/"',
        '</Proxy>',
        'ProxyPass /static !',
        'ProxyPass / balancer://x/',
        'ProxyPass /again balancer://x/',
        'ProxyPassMatch ^/(.*\\.php)$ fcgi://127.0.0.1:9000/var/www/$1',
        'ProxyPass /legacy http://10.0.0.9/',
      ),
    );
    assert.deepEqual(warned(r), [
      'h.conf:3 BalancerMember: ajp://127.0.0.1:8009: only http:// and https:// workers are supported (not ajp, fcgi, unix sockets, h2, ws)',
      'h.conf:4 BalancerMember: unix:/run/app.sock|http://localhost/: only http:// and https:// workers are supported (not ajp, fcgi, unix sockets, h2, ws)',
      'h.conf:8 ProxyPass: balancer://x is already mounted at / (h.conf:7); a balancer has one mount',
      'h.conf:9 ProxyPassMatch: is not supported: mounts are path prefixes (one ProxyPass per balancer)',
      'h.conf:10 ProxyPass: http://10.0.0.9/ is not a balancer:// URL: plain and ajp/fcgi/unix reverse proxying are not carried over',
      'h.conf:6 ProxyPass: the exclusion /static ! is not carried over: route /static to another handler before the balancer',
    ]);
    assert.equal(r.config.balancers[0]!.members.length, 1);
  });

  it('a balancer without ProxyPass or without members is reported; with none left the import throws', () => {
    const r = imp(conf(...BASIC, '<Proxy balancer://lonely>', 'BalancerMember http://127.0.0.1:9', '</Proxy>'));
    assert.deepEqual(warned(r), ['h.conf:7 Proxy: balancer://lonely has no ProxyPass mounting it: not carried over']);
    throwsAt(
      () => imp(conf('LoadModule proxy_module modules/mod_proxy.so', 'Listen 80')),
      'h.conf:1',
      /nothing to balance/,
    );
  });

  it('a value balancer() refuses is thrown naming the line of its member', () => {
    throwsAt(
      () =>
        imp(
          conf(
            '<Proxy balancer://x>',
            'BalancerMember http://127.0.0.1:1',
            'BalancerMember http://127.0.0.1:2 loadfactor=500',
            '</Proxy>',
            'ProxyPass / balancer://x/',
          ),
        ),
      'h.conf:3',
      /^h\.conf:3: 500 is not in 1\.\.100 \(balancers\[0\]\.members\[1\]\.loadfactor\)$/,
    );
    throwsAt(
      () =>
        imp(
          conf(
            '<Proxy balancer://x>',
            'BalancerMember http://127.0.0.1:1',
            '</Proxy>',
            'ProxyPass / balancer://x/ lbmethod=nope',
          ),
        ),
      'h.conf:4',
      /balancers\[0\]\.lbmethod/,
    );
  });

  it('strict throws at the first warning', () => {
    throwsAt(
      () => fromApacheConfig(conf(...BASIC, 'ProxyPassMatch ^/x balancer://app/'), { file: 'h.conf', strict: true }),
      'h.conf:7',
      /ProxyPassMatch.*is not supported/,
    );
  });
});

describe('fromApacheConfig: the file as found in the wild', () => {
  it('continuation lines, comments, quotes with escaped quotes; line numbers of the first physical line', () => {
    const r = imp(
      [
        '# a comment',
        '   # an indented comment',
        '<Proxy balancer://x>',
        '  BalancerMember \\',
        '     http://127.0.0.1:1 \\',
        '     route=a',
        '  BalancerMember \'http://127.0.0.1:2\' route="b"',
        '</Proxy>',
        'Header set X-Note "say \\"hi\\" #not-a-comment"',
        'ProxyPass / balancer://x/ stickysession=S',
        'ProxyPassMatch x y',
      ].join('\r\n'),
    );
    assert.deepEqual(
      (r.config.balancers[0]!.members as MemberOptions[]).map((m) => [m.url, m.route]),
      [
        ['http://127.0.0.1:1', 'a'],
        ['http://127.0.0.1:2', 'b'],
      ],
    );
    assert.deepEqual(warned(r), [
      'h.conf:11 ProxyPassMatch: is not supported: mounts are path prefixes (one ProxyPass per balancer)',
    ]);
  });

  it('Include and IncludeOptional with globs, relative to baseDir, in sorted order; a missing Include throws', () => {
    const dir = tree({
      'httpd.conf': conf(
        'Include conf.d/*.conf',
        'IncludeOptional nothing/*.conf',
        'Include sites',
        'ProxyPass / balancer://x/',
      ),
      'conf.d/20-b.conf': conf('BalancerMember balancer://x http://127.0.0.1:2'),
      'conf.d/10-a.conf': conf('BalancerMember balancer://x http://127.0.0.1:1'),
      'conf.d/skip.txt': conf('BalancerMember balancer://x http://127.0.0.1:9'),
      'sites/one': conf('ProxySet balancer://x lbmethod=bytraffic'),
    });
    const file = path.join(dir, 'httpd.conf');
    const r = fromApacheConfig(fs.readFileSync(file, 'utf8'), { file });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(
      (r.config.balancers[0]!.members as MemberOptions[]).map((m) => m.url),
      ['http://127.0.0.1:1', 'http://127.0.0.1:2'],
    );
    assert.equal(r.config.balancers[0]!.lbmethod, 'bytraffic');
    throwsAt(
      () => fromApacheConfig('Include missing.conf\n', { file: 'top.conf', baseDir: dir }),
      'top.conf:1',
      /does not exist/,
    );
    throwsAt(
      () => fromApacheConfig('Include none/*.conf\n', { file: 'top.conf', baseDir: dir }),
      'top.conf:1',
      /matches no file/,
    );
  });

  it('an Include loop is refused with a typed error', () => {
    const dir = tree({ 'a.conf': 'Include b.conf\n', 'b.conf': 'Include a.conf\n' });
    throwsAt(
      () => fromApacheConfig('Include a.conf\n', { file: 'top.conf', baseDir: dir }),
      path.join(dir, 'b.conf') + ':1',
      /deeper than 16/,
    );
  });

  it('warnings in an included file name that file and its line', () => {
    const dir = tree({ 'extra.conf': conf('', 'ProxyStatus On') });
    const r = fromApacheConfig(conf('Include extra.conf', ...BASIC), { file: 'main.conf', baseDir: dir });
    assert.deepEqual(warned(r), [
      `${path.join(dir, 'extra.conf')}:2 ProxyStatus: is not needed: the manager shows the counters`,
    ]);
  });

  it('IfModule follows LoadModule; IfDefine, Define and ${VAR}; an unknown variable is reported', () => {
    const r = imp(
      conf(
        'LoadModule proxy_module modules/mod_proxy.so',
        'Define PORT 8081',
        'Define PROD',
        '<IfModule mod_proxy.c>',
        '  <IfModule !proxy_module>',
        '    BalancerMember balancer://x http://127.0.0.1:7',
        '  </IfModule>',
        '  BalancerMember balancer://x http://127.0.0.1:${PORT}',
        '</IfModule>',
        '<IfModule mod_ssl.c>',
        '  BalancerMember balancer://x http://127.0.0.1:6',
        '</IfModule>',
        '<IfDefine PROD>',
        '  ProxySet balancer://x lbmethod=bytraffic',
        '</IfDefine>',
        '<IfDefine !PROD>',
        '  ProxySet balancer://x lbmethod=bybusyness',
        '</IfDefine>',
        'ProxyPass /${PREFIX} balancer://x/',
      ),
    );
    assert.deepEqual(r.config.balancers[0]!.members, [{ url: 'http://127.0.0.1:8081' }]);
    assert.equal(r.config.balancers[0]!.lbmethod, 'bytraffic');
    assert.equal(r.config.balancers[0]!.mount, '/${PREFIX}');
    assert.deepEqual(warned(r), ['h.conf:19 ProxyPass: ${PREFIX} is not defined (Define PREFIX …); left as written']);
  });

  it('a fragment without LoadModule takes every IfModule as loaded', () => {
    const r = imp(conf('<IfModule mod_proxy_balancer.c>', ...BASIC, '</IfModule>'));
    assert.equal(r.config.balancers[0]!.name, 'app');
  });

  it('one <VirtualHost> is carried over, later ones reported; Listen gives the address', () => {
    const r = imp(
      conf(
        'Listen 127.0.0.1:8080',
        'Listen 8443',
        '<VirtualHost *:8080>',
        '  ServerName one.example',
        ...BASIC,
        '</VirtualHost>',
        '<VirtualHost *:8443>',
        '  ProxyPass / balancer://app/',
        '</VirtualHost>',
      ),
    );
    assert.deepEqual(warned(r), [
      'h.conf:2 Listen: only the first Listen (127.0.0.1:8080) is used',
      'h.conf:12 VirtualHost: only the first <VirtualHost> (h.conf:3) is carried over',
    ]);
    assert.equal(r.server.listen, '127.0.0.1:8080');
    assert.equal(r.config.serverName, 'one.example');
  });

  it('BalancerInherit Off: the virtual host does not see the main server balancers', () => {
    const r = imp(
      conf(
        ...BASIC.slice(0, 5),
        '<Proxy balancer://own>',
        'BalancerMember http://127.0.0.1:3',
        '</Proxy>',
        '<VirtualHost *:80>',
        '  BalancerInherit Off',
        '  ProxyPass /app/ balancer://app/',
        '  <Proxy balancer://mine>',
        '    BalancerMember http://127.0.0.1:4',
        '  </Proxy>',
        '  ProxyPass /mine/ balancer://mine/',
        '</VirtualHost>',
      ),
    );
    assert.deepEqual(
      r.config.balancers.map((b) => b.name),
      ['mine'],
    );
    assert.deepEqual(warned(r), [
      'h.conf:11 ProxyPass: balancer://app belongs to the main server, which the <VirtualHost> does not inherit (BalancerInherit Off)',
      'h.conf:1 Proxy: balancer://app has no ProxyPass mounting it: not carried over',
      'h.conf:6 Proxy: balancer://own has no ProxyPass mounting it: not carried over',
    ]);
  });

  it('balancer directives inside sections we do not carry over are reported', () => {
    const r = imp(
      conf(
        ...BASIC,
        '<LocationMatch "^/x">',
        '  ProxyPass balancer://app/',
        '  Require all granted',
        '</LocationMatch>',
        '<Proxy "*">',
        'Require all granted',
        '</Proxy>',
      ),
    );
    assert.deepEqual(warned(r), ['h.conf:8 ProxyPass: inside <LocationMatch ^/x> is not carried over']);
  });

  it('syntax errors throw naming file and line', () => {
    throwsAt(() => imp('<Proxy balancer://x>\nBalancerMember http://a\n'), 'h.conf:1', /is never closed/);
    throwsAt(() => imp('</Proxy>\n'), 'h.conf:1', /not open/);
    throwsAt(() => imp('<Proxy balancer://x>\n</Location>\n'), 'h.conf:2', /<Proxy> \(line 1\) is open/);
    throwsAt(() => imp('\n\nBalancerMember "http://a\n'), 'h.conf:3', /never closed/);
    throwsAt(() => imp('<Proxy balancer://x\n'), 'h.conf:1', /without a closing ">"/);
  });
});

describe('fromApacheConfig: health checks, manager, mod_headers', () => {
  it('hc* parameters with ProxyHCExpr common forms as hcexpect/hcbody; others reported', () => {
    const r = imp(
      conf(
        'ProxyHCExpr ok234 {%{REQUEST_STATUS} =~ /^[234]/}',
        'ProxyHCExpr only200 {%{REQUEST_STATUS} == 200}',
        "ProxyHCExpr below400 {%{REQUEST_STATUS} -lt 400 && hc('body') =~ /UP/i}",
        "ProxyHCExpr list {%{REQUEST_STATUS} in {'200', '204'}}",
        "ProxyHCExpr notdown {hc('body') !~ /down/}",
        '<Proxy balancer://x>',
        'BalancerMember http://127.0.0.1:1 hcmethod=GET hcexpr=ok234 hcuri=/h hcpasses=2 hcfails=3 hcinterval=500ms',
        'BalancerMember http://127.0.0.1:2 hcmethod=GET hcexpr=only200',
        'BalancerMember http://127.0.0.1:3 hcmethod=GET hcexpr=below400',
        'BalancerMember http://127.0.0.1:4 hcmethod=GET hcexpr=list',
        'BalancerMember http://127.0.0.1:5 hcmethod=GET hcexpr=notdown',
        'BalancerMember http://127.0.0.1:6 hcmethod=GET hcexpr=nosuch',
        '</Proxy>',
        'ProxyPass / balancer://x/',
      ),
    );
    const m = r.config.balancers[0]!.members;
    assert.deepEqual(m[0], {
      url: 'http://127.0.0.1:1',
      hcmethod: 'GET',
      hcexpect: '2xx,3xx,4xx',
      hcuri: '/h',
      hcpasses: 2,
      hcfails: 3,
      hcinterval: '500ms',
    });
    assert.equal(m[1]!.hcexpect, '200');
    assert.equal(m[2]!.hcexpect, '100-399');
    assert.deepEqual(m[2]!.hcbody, /UP/i);
    assert.equal(m[3]!.hcexpect, '200,204');
    assert.deepEqual(warned(r), [
      "h.conf:11 BalancerMember: hcexpr=notdown ({hc('body') !~ /down/}) is not a form we carry over (status comparisons and ranges, hc('body') =~ /…/): set hcexpect/hcbody",
      'h.conf:12 BalancerMember: hcexpr=nosuch names a ProxyHCExpr that is not defined before it',
    ]);
  });

  it('SetHandler balancer-manager gives the manager mount, with a warning about authentication', () => {
    const r = imp(
      conf(
        ...BASIC,
        '<Location "/balancer-manager">',
        '  SetHandler balancer-manager',
        '  Require host localhost',
        '</Location>',
      ),
    );
    assert.equal(r.server.manager, '/balancer-manager');
    assert.deepEqual(warned(r), [
      'h.conf:8 SetHandler: the manager is mounted at /balancer-manager; its access rules are not carried over: put authentication in front of it',
    ]);
  });

  it('the mod_headers ROUTEID recipe becomes the route cookie of the balancers reading it', () => {
    const r = imp(
      conf(
        'Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/; Secure" env=BALANCER_ROUTE_CHANGED',
        '<Proxy balancer://x>',
        'BalancerMember http://127.0.0.1:1 route=1',
        'ProxySet stickysession=ROUTEID',
        '</Proxy>',
        'ProxyPass /x balancer://x/',
        '<Proxy balancer://y>',
        'BalancerMember http://127.0.0.1:2 route=2',
        '</Proxy>',
        'ProxyPass /y balancer://y/',
      ),
    );
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.balancers[0]!.routecookie, {
      name: 'ROUTEID',
      httpOnly: false,
      sameSite: 'Lax',
      path: '/',
      secure: true,
    });
    assert.equal(r.config.balancers[1]!.routecookie, undefined);
  });

  it('Header lines of %{BALANCER_*}e turn on the balancer-context headers; other names are reported', () => {
    const r = imp(
      conf(
        ...BASIC,
        'Header always set X-Balancer-Worker-Name "%{BALANCER_WORKER_NAME}e" env=BALANCER_WORKER_NAME',
        'Header set X-Upstream "%{BALANCER_WORKER_NAME}e"',
        'Header set X-Frame-Options DENY',
      ),
    );
    assert.equal(r.config.exposeHeaders, true);
    assert.deepEqual(warned(r), [
      'h.conf:8 Header: X-Upstream: "%{BALANCER_WORKER_NAME}e" is sent as the fixed X-Balancer-* headers (exposeHeaders), not under this name or format',
    ]);
  });

  it('BalancerPersist On is reported: edits need a store', () => {
    const r = imp(conf('BalancerPersist On', ...BASIC));
    assert.deepEqual(warned(r), [
      'h.conf:1 BalancerPersist: manager edits are kept in memory only: give balancer() a `store` (FileStore, RedisStore) to keep them across restarts',
    ]);
  });

  it('directives that do not concern the balancer pass without a word', () => {
    const r = imp(
      conf(
        'LoadModule mpm_event_module m.so',
        'ServerRoot /srv',
        'ErrorLog x.log',
        'LogLevel warn',
        'KeepAlive On',
        'StartServers 2',
        '<Directory />',
        'Require all denied',
        '</Directory>',
        ...BASIC,
      ),
    );
    assert.deepEqual(r.warnings, []);
  });
});
