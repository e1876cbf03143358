/**
 * Signed route cookies with every allowed stickysessionsep: the signature is base64url, so a
 * separator from that alphabet (letters, digits, "-", "_") can occur inside it. The value is read
 * by length (22 signature characters, the separator, the route), never at a separator occurrence.
 * The other separators are swept in sticky-signed-separators-other.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { balancer } from '../../lib/index.js';
import { validateConfig } from '../../lib/config/validate.js';
import { Balancer } from '../../lib/balancer/balancer.js';
import { resolveSticky } from '../../lib/model/sticky.js';
import { routeCookieValue } from '../../lib/model/route-cookie.js';
import { FakeClock, seededRandom } from '../support/clock.js';
import { listen, request } from '../support/http.js';
import { startUpstreams, stopAll } from '../support/upstreams.js';
import { BASE64URL, SECRET, cookieHeaderFor, sweepSeparators } from './sticky-separators.js';

test('separators in the base64url alphabet: every issued signed cookie verifies and routes to its worker (10 000 routes each)', () => {
  assert.equal(BASE64URL.length, 64);
  const seen = sweepSeparators(BASE64URL);
  // The case the test is about occurred: about 29 % of signatures hold their separator.
  assert.ok(seen.insideSignature > 150_000, `only ${seen.insideSignature} signatures held their separator`);
  assert.ok(seen.insideRoute > 40_000, `only ${seen.insideRoute} routes held their separator`);
});

test('the route is the text after signature and separator, not after the first or last separator', () => {
  for (const sep of ['-', '_', 'A', '0', '.']) {
    const { balancers } = validateConfig({
      balancers: [
        {
          name: 'app',
          mount: '/app',
          stickysessionsep: sep,
          routecookie: { secret: SECRET },
          members: [{ url: 'http://a.test:8080', route: `x${sep}y${sep}z` }],
        },
      ],
    });
    const b = new Balancer(balancers[0]!, new FakeClock(), seededRandom(1));
    const value = routeCookieValue(b.routecookie!, b.id, sep, `x${sep}y${sep}z`);
    assert.deepEqual(resolveSticky('/app', `ROUTEID=${value}`, b), {
      sticky: 'ROUTEID',
      route: `x${sep}y${sep}z`,
      source: 'cookie',
    });
    // A value one character short or long of the signature never verifies.
    assert.equal(resolveSticky('/app', `ROUTEID=${value.slice(1)}`, b), undefined);
    assert.equal(resolveSticky('/app', `ROUTEID=A${value}`, b), undefined);
  }
});

test('signing covers the route cookie only: a stickysession cookie or parameter of another name still pins', () => {
  const { balancers } = validateConfig({
    balancers: [
      {
        name: 'app',
        mount: '/app',
        stickysession: 'JSESSIONID',
        routecookie: { secret: SECRET },
        members: [{ url: 'http://a.test:8080', route: 'n1' }],
      },
    ],
  });
  const b = new Balancer(balancers[0]!, new FakeClock(), seededRandom(1));
  assert.deepEqual(resolveSticky('/app', 'JSESSIONID=abc.n1', b), {
    sticky: 'JSESSIONID',
    route: 'n1',
    source: 'cookie',
  });
  assert.deepEqual(resolveSticky('/app?JSESSIONID=abc.n1', undefined, b), {
    sticky: 'JSESSIONID',
    route: 'n1',
    source: 'query',
  });
  // The route cookie itself must be signed.
  assert.equal(resolveSticky('/app', 'ROUTEID=.n1', b), undefined);
});

/** Routes `r0`, `r1`, … whose signature holds `sep` (the ones that never verified when parsed at the first sep). */
function routesSignedWithSep(sep: string, n: number): string[] {
  const { balancers } = validateConfig({
    balancers: [
      {
        name: 'app',
        mount: '/app',
        stickysessionsep: sep,
        routecookie: { secret: SECRET },
        members: [{ url: 'http://a.test:8080' }],
      },
    ],
  });
  const rc = balancers[0]!.routecookie!;
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    if (routeCookieValue(rc, 'balancer://app', sep, `r${i}`).slice(0, 22).includes(sep)) out.push(`r${i}`);
  }
  return out;
}

for (const sep of ['-', '_', 'Z']) {
  test(`end to end, separator ${JSON.stringify(sep)}: the issued cookie pins its worker, no new cookie is sent`, async () => {
    const ups = await startUpstreams('a', 'b');
    const routes = routesSignedWithSep(sep, 2);
    const lb = balancer({
      balancers: [
        {
          name: 'app',
          mount: '/app',
          stickysessionsep: sep,
          routecookie: { secret: SECRET },
          members: ups.map((u, i) => ({ url: u.url, route: routes[i]! })),
        },
      ],
    });
    const app = express();
    app.use(lb);
    const srv = await listen(app);
    try {
      for (const [i, up] of ups.entries()) {
        const first = await request(srv.base, `/app/first${i}`);
        assert.equal(first.from, up.name);
        const set = first.headers['set-cookie'] ?? [];
        assert.equal(set.length, 1);
        const cookie = cookieHeaderFor(set[0]!);
        assert.equal(cookie.slice(cookie.indexOf('=') + 1 + 22), `${sep}${routes[i]!}`);
        for (let n = 0; n < 4; n++) {
          const again = await request(srv.base, `/app/again${n}`, { headers: { cookie } });
          assert.equal(again.status, 200);
          assert.equal(again.from, up.name, `request ${n} with ${cookie}`);
          assert.equal(again.headers['set-cookie'], undefined, `request ${n}: no new route cookie`);
        }
      }
    } finally {
      await lb.close(100);
      await srv.close();
      await stopAll(ups);
    }
  });
}
