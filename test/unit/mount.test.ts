/**
 * Mount matching and path mapping (lib/proxy/mount.ts): ProxyPass "/app" "balancer://x/target".
 * Oracle headers-forwarding: "/app/a/../b" reaches the worker as "/b"; "/app" outside "/app/" is
 * not mapped (404 from Apache).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BAD_PATH, mapPath, normalizePath } from '../../lib/proxy/mount.js';

describe('mapPath: mount matching', () => {
  const cases: [mount: string, target: string, url: string, expected: string | undefined][] = [
    // "/app": the mount itself, below it, or a path parameter on it; never a longer name.
    ['/app', '/', '/app', '/'],
    ['/app', '/', '/app/', '/'],
    ['/app', '/', '/app/x', '/x'],
    ['/app', '/', '/app/x/y/', '/x/y/'],
    ['/app', '/', '/app;x', '/;x'],
    ['/app', '/', '/app;jsessionid=abc.node1/x', '/;jsessionid=abc.node1/x'],
    ['/app', '/', '/apple', undefined],
    ['/app', '/', '/app-x', undefined],
    ['/app', '/', '/ap', undefined],
    ['/app', '/', '/', undefined],
    ['/app', '/', '/APP/x', undefined],
    ['/app', '/', '/other/app/x', undefined],
    // "/app/": only below it.
    ['/app/', '/', '/app/', '/'],
    ['/app/', '/', '/app/x', '/x'],
    ['/app/', '/', '/app', undefined],
    ['/app/', '/', '/apple/x', undefined],
    // "/" takes everything.
    ['/', '/', '/', '/'],
    ['/', '/', '/x/y', '/x/y'],
    ['/', '/base', '/x', '/base/x'],
    // Not an origin-form request target.
    ['/app', '/', '*', undefined],
    ['/app', '/', 'http://evil/app/x', undefined],
    ['/app', '/', '', undefined],
  ];
  for (const [mount, target, url, expected] of cases) {
    it(`${mount} → ${target}: ${JSON.stringify(url)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(mapPath(mount, target, url), expected);
    });
  }
});

describe('mapPath: target path join', () => {
  const cases: [mount: string, target: string, url: string, expected: string][] = [
    ['/app', '/base', '/app', '/base'],
    ['/app', '/base', '/app/x', '/base/x'],
    ['/app', '/base/', '/app/x', '/base/x'],
    ['/app', '/base/', '/app', '/base/'],
    ['/app/', '/base', '/app/x', '/base/x'],
    ['/app/', '/base/', '/app/x', '/base/x'],
    ['/app/', '/base', '/app/', '/base'],
    ['/app', '/base', '/app;p=1', '/base;p=1'],
    ['/app', '/base/', '/app/x/', '/base/x/'],
  ];
  for (const [mount, target, url, expected] of cases) {
    it(`${mount} → ${target}: ${url} → ${expected}`, () => {
      const mapped = mapPath(mount, target, url);
      assert.equal(mapped, expected);
      assert.ok(!mapped.includes('//'));
    });
  }
});

describe('mapPath: dot segments', () => {
  // Resolved below the mount the raw path names; a ".." climbing above it is BAD_PATH (400).
  const cases: [mount: string, url: string, expected: string | undefined | typeof BAD_PATH][] = [
    ['/app/', '/app/a/../b', '/b'],
    ['/app/', '/app/./b', '/b'],
    ['/app/', '/app/a/./b/../c', '/a/c'],
    ['/app', '/app/../admin', BAD_PATH],
    ['/app', '/app/..', BAD_PATH],
    ['/app', '/app/../app/x', BAD_PATH],
    ['/app/', '/app/x/../../admin', BAD_PATH],
    ['/app/', '/app/..', BAD_PATH],
    ['/app', '/app/%2e%2e/admin', BAD_PATH],
    ['/app', '/app/%2E%2E/admin', BAD_PATH],
    ['/app', '/app/.%2e/admin', BAD_PATH],
    ['/app', '/app/%2e./admin', BAD_PATH],
    ['/app', '/app/%2e/x', '/x'],
    ['/app', '/app/x/..', '/'],
    ['/app', '/app/x/.', '/x/'],
    ['/app', '/app//../x', '/x'],
    ['/app', '/app/.../x', '/.../x'],
    ['/app', '/app/..x/y', '/..x/y'],
    ['/', '/..', BAD_PATH],
    ['/', '/a/../b', '/b'],
    // The raw path names no mount: reaching this one once resolved is BAD_PATH, never a match.
    ['/app', '/x/../app/y', BAD_PATH],
    ['/app', '/../app/y', BAD_PATH],
    ['/app', '/./app/y', BAD_PATH],
    ['/app', '/x/%2e%2e/app', BAD_PATH],
    ['/app', '/x/../other', undefined],
    ['/app', '/x/./y', undefined],
    // Encoded slashes (and NUL) are refused (Apache's AllowEncodedSlashes Off answers 404).
    ['/app', '/app/%2e%2e%2fadmin', undefined],
    ['/app', '/app/a%2Fb', undefined],
    ['/app', '/app/a%5cb', undefined],
    ['/app', '/app/a%00b', undefined],
    // "..;x" is a dot segment to Tomcat: resolved here so it cannot escape the mount on the worker.
    ['/app', '/app/..;/admin', BAD_PATH],
    ['/app', '/app/x/..;jsessionid=1/y', '/y'],
    ['/app', '/app/%2e%2e;x/..;/admin', BAD_PATH],
    // Path parameters on the mount's own segment are not a level to climb out of.
    ['/app', '/app;x/../y', BAD_PATH],
    ['/app', '/app;x/a/../y', '/;x/y'],
  ];
  for (const [mount, url, expected] of cases) {
    it(`${mount}: ${url} → ${String(expected)}`, () => {
      assert.equal(mapPath(mount, '/', url), expected);
    });
  }

  it('/app/../admin never maps, whatever the mount and target', () => {
    for (const mount of ['/app', '/app/']) {
      for (const target of ['/', '/app', '/base/']) {
        for (const url of ['/app/../admin', '/app/%2e%2e/admin', '/app/x/../../admin', '/app/./../admin?x=1']) {
          assert.equal(mapPath(mount, target, url), BAD_PATH, `${mount} ${target} ${url}`);
        }
      }
    }
  });
});

describe('mapPath: characters the forwarder would rewrite', () => {
  const cases: [url: string, expected: string | undefined | typeof BAD_PATH][] = [
    ['/app/..#', BAD_PATH],
    ['/app/%2e%2e#', BAD_PATH],
    ['/app/x#frag', BAD_PATH],
    ['/app/x?q=#frag', BAD_PATH],
    ['/app/..\t', BAD_PATH],
    ['/app/.. ', BAD_PATH],
    ['/app/x\u00a0', BAD_PATH],
    ['/app/x\u007f', BAD_PATH],
    ['/app#', undefined],
    ['/other/..#', undefined],
  ];
  for (const [url, expected] of cases) {
    it(`${JSON.stringify(url)} → ${String(expected)}`, () => {
      assert.equal(mapPath('/app', '/', url), expected);
    });
  }
});

describe('mapPath: the query is kept untouched', () => {
  const cases: [mount: string, target: string, url: string, expected: string][] = [
    ['/app', '/', '/app/x?a=1&b=%20', '/x?a=1&b=%20'],
    ['/app', '/', '/app?a=//b', '/?a=//b'],
    ['/app', '/base', '/app/x?a=//b', '/base/x?a=//b'],
    ['/app', '/', '/app/x?p=/../y', '/x?p=/../y'],
    ['/app', '/', '/app/x?p=%2e%2e', '/x?p=%2e%2e'],
    ['/app', '/', '/app/x?', '/x?'],
    ['/app', '/', '/app/x??a', '/x??a'],
    ['/app', '/', '/app/a/../b?q=/../c', '/b?q=/../c'],
    ['/app', '/', '/app/x?jsessionid=abc.node1', '/x?jsessionid=abc.node1'],
  ];
  for (const [mount, target, url, expected] of cases) {
    it(`${url} → ${expected}`, () => {
      assert.equal(mapPath(mount, target, url), expected);
    });
  }

  it('a query that looks like a mount does not make a path match', () => {
    assert.equal(mapPath('/app', '/', '/other?/app/x'), undefined);
  });
});

describe('normalizePath', () => {
  const cases: [string, string][] = [
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/..', '/'],
    ['/../../a', '/a'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/a/%2e%2e/b', '/b'],
    ['/a/%2E/b', '/a/b'],
    ['/a/%2e%2E', '/'],
    ['/A/b', '/A/b'],
    ['/a%2Fb', '/a%2Fb'],
    ['/a//b', '/a//b'],
    ['/a/b/', '/a/b/'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => {
      assert.equal(normalizePath(input), expected);
    });
  }

  it('leaves paths without "." or "%" as they are (same string)', () => {
    const p = '/plain/path/';
    assert.equal(normalizePath(p), p);
  });
});

describe('mapPath: raw backslashes', () => {
  it('refuses "\\" in the path (http-proxy would turn it into "/" after the dot-segment check)', () => {
    assert.equal(mapPath('/app', '/', '/app/..\\secret'), undefined);
    assert.equal(mapPath('/app', '/', '/app/a\\b'), undefined);
    assert.equal(mapPath('/app', '/', '/app/a?q=\\'), '/a?q=\\');
  });
});
