/**
 * The express-proxy-balancer command: --help, usage errors (exit 2), check (the configuration as JSON,
 * warnings naming file and line, exit 1 on errors) and serve from an Apache file or our options,
 * against real backends, stopping gracefully on SIGTERM and SIGINT.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Upstream } from '../support/upstreams.js';
import { cli, serving, stopAll } from './cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'epb-cli-'));
const a = new Upstream('a');
const b = new Upstream('b');
before(async () => {
  await a.start();
  await b.start();
});
after(async () => {
  stopAll();
  await a.stop();
  await b.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const apacheFile = (listen = '127.0.0.1:0'): string =>
  write(
    `httpd-${Math.random().toString(36).slice(2)}.conf`,
    [
      `Listen ${listen}`,
      '<Proxy balancer://web>',
      `  BalancerMember http://127.0.0.1:${a.port} route=a retry=30`,
      `  BalancerMember http://127.0.0.1:${b.port} route=b`,
      '</Proxy>',
      'ProxyPass /web/ balancer://web/',
      'ProxyStatus On',
      '<Location /balancer-manager>',
      '  SetHandler balancer-manager',
      '</Location>',
      '',
    ].join('\n'),
  );

async function nameOf(r: Response): Promise<string> {
  return (JSON.parse(await r.text()) as { name: string }).name;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('express-proxy-balancer command', () => {
  it('--help prints the usage, exit 0; a wrong command line exits 2 with the usage', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage:\n {2}express-proxy-balancer serve --apache FILE \[--listen HOST:PORT\]/);
    const bad = await cli(['serve', '--apache']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^express-proxy-balancer: --apache needs a value\n\nUsage:/);
    assert.equal((await cli(['frobnicate'])).code, 2);
  });

  it('check FILE prints the configuration as JSON and every warning with file and line', async () => {
    const file = apacheFile('127.0.0.1:8099');
    const r = await cli(['check', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      balancers: [
        {
          name: 'web',
          mount: '/web/',
          members: [
            { url: `http://127.0.0.1:${a.port}`, route: 'a', retry: '30s' },
            { url: `http://127.0.0.1:${b.port}`, route: 'b' },
          ],
        },
      ],
      manager: '/balancer-manager',
      listen: '127.0.0.1:8099',
    });
    assert.equal(
      r.stderr,
      [
        `${file}:7: ProxyStatus: is not needed: the manager shows the counters`,
        `${file}:9: SetHandler: the manager is mounted at /balancer-manager; its access rules are not carried over: put authentication in front of it`,
        `${file}: 2 warnings`,
        '',
      ].join('\n'),
    );
  });

  it('check exits 1 naming the file and line of an error, in Apache files and in JSON', async () => {
    const broken = write(
      'broken.conf',
      '<Proxy balancer://x>\n  BalancerMember http://127.0.0.1:1 loadfactor=0\n</Proxy>\nProxyPass / balancer://x/\n',
    );
    const r1 = await cli(['check', broken]);
    assert.equal(r1.code, 1);
    assert.equal(
      r1.stderr,
      `express-proxy-balancer: ${broken}:2: 0 is not in 1..100 (balancers[0].members[0].loadfactor)\n`,
    );
    const json = write('bad.json', '{\n  "balancers": [\n    { "name": "x", }\n  ]\n}\n');
    const r2 = await cli(['check', json]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, new RegExp(`^express-proxy-balancer: ${json.replace(/[.]/g, '\\.')}:3: not JSON: `));
    const invalid = write(
      'invalid.json',
      JSON.stringify({ balancers: [{ name: 'x', mount: '/', members: [{ url: 'ftp://h' }] }] }),
    );
    const r3 = await cli(['check', invalid]);
    assert.equal(r3.code, 1);
    assert.match(
      r3.stderr,
      new RegExp(
        `^express-proxy-balancer: ${invalid.replace(/[.]/g, '\\.')}: balancers\\[0\\]\\.members\\[0\\]\\.url: "ftp://h" `,
      ),
    );
    const missing = await cli(['check', path.join(dir, 'nope.conf')]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `express-proxy-balancer: ${path.join(dir, 'nope.conf')}: cannot be read (ENOENT)\n`);
  });

  it('serve --apache balances, mounts the manager, 404s the rest, and drains on SIGTERM', async () => {
    const { url, child, done } = await serving(['serve', '--apache', apacheFile(), '--listen', '127.0.0.1:0']);
    const first = await fetch(`${url}/web/x`);
    assert.equal(first.status, 200);
    const second = await fetch(`${url}/web/y`);
    assert.deepEqual([await nameOf(first), await nameOf(second)].sort(), ['a', 'b']);
    const page = await fetch(`${url}/balancer-manager`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /balancer:\/\/web/);
    assert.equal((await fetch(`${url}/other`)).status, 404);
    // A request in flight when SIGTERM comes still gets its answer.
    a.mode = { status: 200, body: 'slow', delayMs: 300 };
    b.mode = { status: 200, body: 'slow', delayMs: 300 };
    const slow = fetch(`${url}/web/slow`);
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    const answer = await slow;
    assert.equal(await answer.text(), 'slow');
    const end = await done;
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stdout, /SIGTERM: stopping .*\n.*stopped\n$/);
    a.mode = 'ok';
    b.mode = 'ok';
  });

  it('serve uses the Listen of the Apache file without --listen; SIGINT stops it', async () => {
    const port = await freePort();
    const { url, child, done } = await serving(['serve', '--apache', apacheFile(`127.0.0.1:${port}`)]);
    assert.equal(url, `http://127.0.0.1:${port}`);
    assert.equal((await fetch(`${url}/web/`)).status, 200);
    child.kill('SIGINT');
    assert.equal((await done).code, 0);
  });

  it('serve --config FILE.mjs takes our options, with listen and manager keys', async () => {
    const file = write(
      'options.mjs',
      `export default { listen: '127.0.0.1:0', manager: '/m', balancers: [{ name: 'x', mount: '/', members: [{ url: 'http://127.0.0.1:${b.port}' }] }] };\n`,
    );
    const { url, child, done } = await serving(['serve', '--config', file]);
    assert.equal(await nameOf(await fetch(`${url}/anything`)), 'b');
    // The balancer comes first: with a mount of "/" it takes the manager's path too.
    assert.equal(await nameOf(await fetch(`${url}/m`)), 'b');
    child.kill('SIGTERM');
    assert.equal((await done).code, 0);
  });
});
