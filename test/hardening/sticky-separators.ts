/**
 * The signed route cookie sweep shared by the sticky-signed-separators tests: for each separator,
 * 10 000 random routes are issued a cookie as the balancer issues it, sent back as a browser would,
 * resolved and selected on a real Balancer.
 */
import assert from 'node:assert/strict';
import { validateConfig } from '../../lib/config/validate.js';
import { Balancer } from '../../lib/balancer/balancer.js';
import { createContext } from '../../lib/model/context.js';
import { selectWorker } from '../../lib/balancer/select.js';
import { resolveSticky, type StickyOptions } from '../../lib/model/sticky.js';
import { routeSetCookie } from '../../lib/model/route-cookie.js';
import { FakeClock, seededRandom } from '../support/clock.js';

export const SECRET = 'route-cookie-secret-0123456789';
const ROUTES = 10_000;

/** Every separator the configuration accepts: one visible ASCII character other than "=" and ";". */
export const SEPARATORS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).filter(
  (c) => c !== '=' && c !== ';',
);

/** Separators a signature can hold (base64url). */
export const BASE64URL = SEPARATORS.filter((c) => /[A-Za-z0-9_-]/.test(c));

/** Route characters: visible ASCII without ; , | = (what a member's route accepts). */
const ROUTE_CHARS = SEPARATORS.filter((c) => c !== ',' && c !== '|').join('');

const ONE_MEMBER = { name: 'app', mount: '/app', members: [{ url: 'http://a.test:8080' }] };

/** Distinct random routes of 1..16 route characters (about one in ten holds any given separator). */
function randomRoutes(random: () => number): string[] {
  const out = new Set<string>();
  while (out.size < ROUTES) {
    const n = 1 + Math.floor(random() * 16);
    let r = '';
    for (let i = 0; i < n; i++) r += ROUTE_CHARS[Math.floor(random() * ROUTE_CHARS.length)]!;
    out.add(r);
  }
  return [...out];
}

/** The cookie the balancer sets, as the browser sends it back. */
export function cookieHeaderFor(setCookie: string): string {
  return setCookie.slice(0, setCookie.indexOf(';'));
}

/**
 * Asserts every cookie issued with each of `seps` resolves to its route and selects its worker with
 * no route change. Returns how often the separator occurred inside a signature and inside a route.
 */
export function sweepSeparators(seps: readonly string[]): { insideSignature: number; insideRoute: number } {
  const routes = randomRoutes(seededRandom(0x5eed));
  const { balancers } = validateConfig({
    balancers: [
      {
        name: 'app',
        mount: '/app',
        routecookie: { secret: SECRET },
        members: routes.map((route, i) => ({ url: `http://w${i}.test:8080`, route })),
      },
    ],
  });
  const b = new Balancer(balancers[0]!, new FakeClock(), seededRandom(1));
  const rc = b.routecookie!;
  let insideSignature = 0;
  let insideRoute = 0;
  for (const sep of seps) {
    // The separator is accepted with signing (only the separator differs between these balancers).
    const spec = validateConfig({
      balancers: [{ ...ONE_MEMBER, stickysessionsep: sep, routecookie: { secret: SECRET } }],
    }).balancers[0]!;
    assert.equal(spec.stickysessionsep, sep);
    const opts: StickyOptions = {
      sticky: b.sticky,
      stickysessionsep: sep,
      scolonpathdelim: b.scolonpathdelim,
      routecookie: rc,
      id: b.id,
    };
    let failed = 0;
    let firstFailure = '';
    for (const w of b.workers) {
      const setCookie = routeSetCookie(rc, b.id, sep, w.route);
      const cookie = cookieHeaderFor(setCookie);
      const at = cookie.indexOf('=') + 1;
      if (cookie.slice(at, at + 22).includes(sep)) insideSignature++;
      if (w.route.includes(sep)) insideRoute++;
      const hit = resolveSticky('/app/page', cookie, opts);
      const ctx = createContext(b.id);
      const sel = hit ? selectWorker(b, hit, ctx, undefined) : undefined;
      if (hit?.route !== w.route || sel?.worker !== w || ctx.routeChanged) {
        failed++;
        firstFailure ||= `${JSON.stringify(setCookie)} -> ${JSON.stringify(hit)}`;
      }
    }
    assert.equal(failed, 0, `separator ${JSON.stringify(sep)}: ${failed} of ${ROUTES} failed, e.g. ${firstFailure}`);
  }
  return { insideSignature, insideRoute };
}
