import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import express5 from 'express';
import express4 from 'express4';
import { balancer, managerRouter } from '../../lib/index.js';
import type {
  BalancerConfig,
  BalancerMiddleware,
  ManagerOptions,
  ManagerRouter,
  MemberOptions,
} from '../../lib/index.js';
import { listen, request, type Reply, type RequestOptions } from '../support/http.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';

export interface Setup {
  base: string;
  /** Absolute URL of the manager page. */
  manager: string;
  lb: BalancerMiddleware;
  router: ManagerRouter;
  ups: Upstream[];
}

export interface SetupOptions {
  express?: 4 | 5;
  mount?: string;
  names?: string[];
  balancer?: Partial<BalancerConfig['balancers'][number]>;
  config?: Partial<BalancerConfig>;
  manager?: ManagerOptions;
  members?: (ups: Upstream[]) => MemberOptions[];
}

/** Real upstreams, balancer at /app, manager at `mount` in a real Express app; all closed after the test. */
export async function setup(t: TestContext, o: SetupOptions = {}): Promise<Setup> {
  const ups = await startUpstreams(...(o.names ?? ['a', 'b', 'c']));
  t.after(() => stopAll(ups));
  const members = o.members ? o.members(ups) : ups.map((u, i) => ({ url: u.url, route: `r${i + 1}` }));
  const lb = balancer({
    ...o.config,
    balancers: [{ name: 'oracle', mount: '/app', growth: 1, ...o.balancer, members }],
  });
  const router = managerRouter(lb, o.manager);
  const mount = o.mount ?? '/balancer-manager';
  const app = o.express === 4 ? express4() : express5();
  app.use(mount, router);
  app.use(lb);
  const srv = await listen(app);
  t.after(async () => {
    await srv.close();
    await lb.close(100);
  });
  await lb.ready;
  return { base: srv.base, manager: `${srv.base}${mount}`, lb, router, ups };
}

export function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(url, pathOf(url), { headers });
}

/** The balancer's nonce as a script reads it: from ?xml=1. */
export async function nonceOf(s: Setup, name = 'oracle'): Promise<string> {
  const xml = (await get(`${s.manager}?xml=1`)).body;
  const m = new RegExp(`<httpd:name>balancer://${name}</httpd:name>\\s*<httpd:nonce>([^<]+)</httpd:nonce>`).exec(xml);
  if (!m) throw new Error('no nonce in the XML');
  return m[1]!;
}

/** POSTs Apache's form fields the way the oracle's replay tool does (Referer = the manager URL). */
export async function postForm(
  s: Setup,
  fields: Record<string, string>,
  opts: { referer?: string | false; origin?: string; nonce?: string | false; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const form: Record<string, string> = { b: 'oracle', ...fields };
  if (opts.nonce !== false && !('nonce' in fields)) form.nonce = opts.nonce ?? (await nonceOf(s));
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers };
  if (opts.referer !== false) headers.referer = opts.referer ?? s.manager;
  if (opts.origin) headers.origin = opts.origin;
  return request(s.manager, pathOf(s.manager), { method: 'POST', headers, body: new URLSearchParams(form).toString() });
}

/** A JSON API call with the same-origin header a browser would send. */
export async function api(
  s: Setup,
  method: string,
  path: string,
  body?: unknown,
  opts: RequestOptions & { origin?: string | false } = {},
): Promise<Reply & { json: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers as Record<string, string>) };
  if (opts.origin !== false) headers.origin = opts.origin ?? s.base;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await request(s.manager, `${pathOf(s.manager)}/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let json: unknown;
  try {
    json = JSON.parse(r.body);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

/** Who answered n requests through the balancer. */
export async function traffic(s: Setup, n: number, headers: Record<string, string> = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await request(s.base, `/app/t${i}`, { headers });
    out.push(r.status === 200 ? (r.from ?? '?') : String(r.status));
  }
  return out;
}

export function workerUrl(s: Setup, i: number): string {
  return s.ups[i]!.url;
}

/**
 * The page without its one script of its own (the live view: nonce-tagged, only the live URL as JSON in
 * it), so a test can check that no other script reached the page. Throws when that script is missing.
 */
export function withoutOwnScript(html: string): string {
  const own = /<script nonce="[^"<>]+">const LIVE_URL = "(?:[^"\\<>\n]|\\.)*";\n[^<]*<\/script><\/body><\/html>\n$/;
  assert.match(html, own, 'the page ends with its own live-view script');
  return html.replace(own, '</body></html>\n');
}
