import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { drainWorker } from '../health/drain.js';
import type { Balancer } from '../balancer/balancer.js';
import type { StateStore } from '../model/store.js';
import type { ChangeSet } from '../balancer/admin.js';
import type { AuditEvent, ManagerOptions, ManagerRouter, NextFunction } from './types.js';
import type { Fields } from './body.js';
import { AdminError, applyChangeSet, checkChangeSet, findWorker } from '../balancer/admin.js';
import { ManagerError } from './types.js';
import { readFields } from './body.js';
import {
  balancerName,
  parseFormChange,
  parseJsonAddWorker,
  parseJsonBalancerEdit,
  parseJsonWorkerEdit,
} from './edits.js';
import { ConfigError } from '../errors.js';
import { hostRefusal, nonceMatches, parseHost, sameOrigin, setSecurityHeaders, styleNonce } from './security.js';
import type { HostName } from './security.js';
import { buildSnapshot, balancerSnapshot, workerSnapshot } from './snapshot.js';
import { renderPage, type PageContext } from './render-html.js';
import { renderXml } from './render-xml.js';
import { safeJson } from './escape.js';
import { saveBalancer } from './persist.js';
import { trackErrors } from './error-counts.js';
import { liveStats, trackLive } from './live.js';
import { streamLive } from './live-stream.js';
import { sparklines } from './sparkline.js';
import { systemClock } from '../model/clock.js';
import { log } from '../debug.js';
import { mountPrefix, relativeUrl } from './mount.js';
import { metricsHandler } from '../observe/metrics.js';

/** What the router needs from balancer(): its balancers, its store and its start-up promise. */
export interface ManagedBalancers {
  readonly balancers: readonly Balancer[];
  readonly store: StateStore;
  readonly ready?: Promise<void>;
}

interface Ctx {
  lb: ManagedBalancers;
  opts: Required<Pick<ManagerOptions, 'readOnly' | 'allowedOrigins' | 'bodyLimit'>> & ManagerOptions;
  /** options.allowedHosts, parsed. */
  hosts: readonly HostName[];
  events: EventEmitter;
  mount: string | undefined;
}

type Req = IncomingMessage & { originalUrl?: string };

/**
 * The balancer-manager as a plain (req, res, next) handler: the HTML page, `?xml=1` and the JSON
 * API under `/api`, relative to wherever it is mounted. Mount it behind your own authentication.
 */
export function managerRouter(lb: ManagedBalancers, options: ManagerOptions = {}): ManagerRouter {
  const ctx: Ctx = {
    lb,
    opts: {
      ...options,
      readOnly: options.readOnly ?? false,
      allowedOrigins: options.allowedOrigins ?? [],
      bodyLimit: options.bodyLimit ?? 16_384,
    },
    hosts: allowedHosts(options.allowedHosts),
    events: new EventEmitter(),
    mount: mountPrefix(options.mount),
  };
  for (const b of lb.balancers) {
    trackErrors(b);
    trackLive(b);
  }
  const router = function balancerManager(req: IncomingMessage, res: ServerResponse, next?: NextFunction): void {
    handle(ctx, req, res, next).catch((err: unknown) => internalError(res, err));
  } as ManagerRouter;
  router.on = (event, listener) => (ctx.events.on(event, listener), router);
  router.once = (event, listener) => (ctx.events.once(event, listener), router);
  router.off = (event, listener) => (ctx.events.off(event, listener), router);
  return router;
}

function allowedHosts(hosts: unknown): HostName[] {
  if (hosts === undefined) return [];
  if (!Array.isArray(hosts)) throw new ConfigError('allowedHosts', hosts, 'is not an array of host names');
  return hosts.map((h: unknown, i) => {
    const parsed = typeof h === 'string' ? parseHost(h) : undefined;
    if (!parsed) throw new ConfigError(`allowedHosts[${i}]`, h, 'is not a host name, address or host:port');
    return parsed;
  });
}

/** Checked on every manager request, reads too: a page on a rebound name must not even read the nonce. */
function hostError(ctx: Ctx, req: IncomingMessage): ManagerError | undefined {
  const refusal = hostRefusal(req, ctx.hosts);
  return refusal === undefined ? undefined : new ManagerError('ERR_MANAGER_HOST', 403, refusal);
}

function internalError(res: ServerResponse, err: unknown): void {
  log.manager('internal error: %s', (err as Error).stack ?? String(err));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, 500, { error: { code: 'ERR_MANAGER_INTERNAL', message: 'internal error', field: null } });
}

async function handle(ctx: Ctx, req: Req, res: ServerResponse, next: NextFunction | undefined): Promise<void> {
  // Appended to an origin, "//[" or "//a:99999/" stays a path: it never parses as a host.
  // Outside the `mount` prefix nothing matches, so the request goes on to next() (or a 404).
  const target = relativeUrl(ctx.mount, req) ?? '/-';
  const url = target.startsWith('/') ? URL.parse(`http://manager.invalid${target}`) : null;
  if (!url) {
    sendJson(res, 400, { error: { code: 'ERR_MANAGER_INVALID', message: 'not a request path', field: null } });
    return;
  }
  if (url.pathname === '/' || url.pathname === '') return page(ctx, req, res, url);
  if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return api(ctx, req, res, url);
  if (url.pathname === '/live') {
    live(ctx, req, res);
    return;
  }
  if (url.pathname === '/metrics') {
    metrics(ctx, req, res);
    return;
  }
  if (next) {
    next();
    return;
  }
  setSecurityHeaders(res);
  sendJson(res, 404, { error: { code: 'ERR_MANAGER_NOT_FOUND', message: 'no such manager page', field: null } });
}

/** Prometheus metrics (lib/observe/): counted from the first scrape, or from an earlier metricsHandler(lb). */
function metrics(ctx: Ctx, req: Req, res: ServerResponse): void {
  const denied = hostError(ctx, req);
  if (denied) return sendJson(res, denied.status, errorBody(denied));
  setSecurityHeaders(res);
  metricsHandler(ctx.lb)(req, res);
}

// ---------------------------------------------------------------- responses

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  setSecurityHeaders(res);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(safeJson(body) + '\n');
}

function send(res: ServerResponse, status: number, type: string, body: string, cspNonce?: string): void {
  setSecurityHeaders(res, cspNonce);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const ADMIN_STATUS = { invalid: 400, 'not-found': 404, conflict: 409 } as const;
const ADMIN_CODE = {
  invalid: 'ERR_MANAGER_INVALID',
  'not-found': 'ERR_MANAGER_NOT_FOUND',
  conflict: 'ERR_MANAGER_CONFLICT',
} as const;
const FORM_FIELD: Record<string, string> = {
  worker: 'w',
  addWorker: 'b_nwrkr',
  lbmethod: 'b_lbm',
  hcmethod: 'w_hm',
  hcinterval: 'w_hi',
  hcpasses: 'w_hp',
  hcfails: 'w_hf',
  hcuri: 'w_hu',
  hcexpect: 'w_he',
};
const JSON_FIELD: Record<string, string> = { worker: 'worker', addWorker: 'url' };

/** Any refusal as a ManagerError, field names in the vocabulary of the request (form or JSON). */
function asManagerError(err: unknown, form: boolean): ManagerError {
  if (err instanceof ManagerError) return err;
  if (err instanceof AdminError) {
    const field = (form ? FORM_FIELD : JSON_FIELD)[err.field] ?? err.field;
    return new ManagerError(ADMIN_CODE[err.kind], ADMIN_STATUS[err.kind], err.message, field);
  }
  throw err;
}

function errorBody(e: ManagerError): unknown {
  return { error: { code: e.code, message: e.message, field: e.field } };
}

// ---------------------------------------------------------------- the page and ?xml=1

/** The page's own path from the original URL, for form actions and redirects (never a host). */
function ownPath(req: Req): string {
  const raw = (req.originalUrl ?? req.url ?? '/').replace(/^[/\\]+/, '/');
  try {
    return new URL(raw, 'http://manager.invalid').pathname;
  } catch {
    return '/';
  }
}

function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

async function page(ctx: Ctx, req: Req, res: ServerResponse, url: URL): Promise<void> {
  const denied = hostError(ctx, req);
  if (denied) {
    log.manager('refused %s %s: %s', req.method, ownPath(req), denied.message);
    sendJson(res, denied.status, errorBody(denied));
    return;
  }
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    view(ctx, req, res, url);
    return;
  }
  if (method === 'POST') return formPost(ctx, req, res);
  res.setHeader('Allow', 'GET, HEAD, POST');
  sendJson(res, 405, errorBody(new ManagerError('ERR_MANAGER_METHOD', 405, `${method} is not allowed here`)));
}

/** GET only views (CVE-2007-6420): b and w choose the form shown; any other parameter is ignored. */
function view(ctx: Ctx, req: Req, res: ServerResponse, url: URL): void {
  const snap = buildSnapshot(ctx.lb, ctx.opts.readOnly);
  if (url.searchParams.has('xml')) return send(res, 200, 'text/xml; charset=utf-8', renderXml(snap));
  const pc = pageContext(ctx, req);
  const b = url.searchParams.get('b');
  const w = url.searchParams.get('w');
  let status = 200;
  try {
    pc.selected = selection(ctx, b, w);
  } catch (err) {
    const e = asManagerError(err, true);
    status = e.status;
    pc.error = { message: e.message, field: e.field };
  }
  if (url.searchParams.get('saved') === '1' && status === 200) pc.notice = 'Changes applied.';
  sendPage(res, status, snap, pc);
}

function pageContext(ctx: Ctx, req: Req): PageContext {
  const host = req.headers.host;
  return {
    host: typeof host === 'string' ? host : undefined,
    action: ownPath(req),
    styleNonce: styleNonce(),
    sparks: (balancer, worker) => {
      const stats = liveStats(ctx.lb.balancers.find((b) => b.name === balancer)!);
      return stats ? sparklines(stats.series(worker)) : '';
    },
  };
}

/** GET <mount>/live: the page's updates as Server-Sent Events; the same host check as the page. */
function live(ctx: Ctx, req: Req, res: ServerResponse): void {
  const denied = hostError(ctx, req);
  if (denied) {
    sendJson(res, denied.status, errorBody(denied));
    return;
  }
  if (req.method !== 'GET') {
    res.setHeader('Allow', 'GET');
    sendJson(res, 405, errorBody(new ManagerError('ERR_MANAGER_METHOD', 405, `${req.method} is not allowed here`)));
    return;
  }
  setSecurityHeaders(res);
  const clock = ctx.lb.balancers[0]?.clock ?? systemClock;
  streamLive(
    { balancers: ctx.lb.balancers, clock, snapshot: () => buildSnapshot(ctx.lb, ctx.opts.readOnly) },
    req,
    res,
  );
}

function sendPage(res: ServerResponse, status: number, snap: ReturnType<typeof buildSnapshot>, pc: PageContext): void {
  send(res, status, 'text/html; charset=utf-8', renderPage(snap, pc), pc.styleNonce);
}

/** Resolves ?b= and ?w= for the page; a worker is only looked up inside a named balancer (CVE-2007-6422). */
function selection(ctx: Ctx, b: string | null, w: string | null): PageContext['selected'] {
  if (b === null || b === '') {
    if (w !== null && w !== '')
      throw new ManagerError('ERR_MANAGER_INVALID', 400, 'w: a worker needs its balancer (b)', 'b');
    return undefined;
  }
  const bal = findBalancer(ctx, balancerName(b));
  if (w === null || w === '') return { balancer: bal.name };
  const worker = findWorker(bal, w);
  if (!worker) throw new ManagerError('ERR_MANAGER_NOT_FOUND', 404, `${bal.id} has no worker ${w}`, 'w');
  return { balancer: bal.name, worker: worker.name };
}

function findBalancer(ctx: Ctx, name: string, field = 'b'): Balancer {
  const b = ctx.lb.balancers.find((x) => x.name === name);
  if (!b) throw new ManagerError('ERR_MANAGER_NOT_FOUND', 404, `no balancer named ${name}`, field);
  return b;
}

/** Apache's form POST: redirect back to the page on success, the form with the error otherwise. */
async function formPost(ctx: Ctx, req: Req, res: ServerResponse): Promise<void> {
  let fields: Fields = {};
  let json = false;
  try {
    guard(ctx, req);
    ({ fields, json } = await readFields(req, ctx.opts.bodyLimit));
    const b = findBalancer(ctx, balancerName(fields.b));
    checkNonce(b, fields.nonce);
    const { change } = parseFormChange(fields);
    await commit(ctx, req, b, change);
    if (json || wantsJson(req)) {
      sendJson(res, 200, { balancer: balancerSnapshot(b, false) });
      return;
    }
    const query = `b=${encodeURIComponent(b.name)}${change.worker === undefined ? '' : `&w=${encodeURIComponent(findWorker(b, change.worker)?.name ?? '')}`}`;
    setSecurityHeaders(res);
    res.writeHead(303, { Location: `${ownPath(req)}?${query}&saved=1`, 'Content-Length': 0 });
    res.end();
  } catch (err) {
    const e = asManagerError(err, true);
    log.manager('refused %s %s: %s', req.method, ownPath(req), e.message);
    if (json || wantsJson(req)) {
      sendJson(res, e.status, errorBody(e));
      return;
    }
    formError(ctx, req, res, e, fields);
  }
}

function formError(ctx: Ctx, req: Req, res: ServerResponse, e: ManagerError, fields: Fields): void {
  const pc = pageContext(ctx, req);
  pc.error = { message: e.message, field: e.field };
  // Only refill the form for a request that carried the balancer's nonce: never echo guesses.
  try {
    const b = findBalancer(ctx, balancerName(fields.b));
    if (nonceMatches(b.nonce, fields.nonce)) {
      pc.posted = fields;
      pc.selected = selection(ctx, b.name, typeof fields.w === 'string' ? fields.w : null);
    }
  } catch {
    // No such balancer or worker: the page shows the error without a form.
  }
  if (e.code === 'ERR_MANAGER_BODY') pc.posted = undefined;
  sendPage(res, e.status, buildSnapshot(ctx.lb, ctx.opts.readOnly), pc);
}

// ---------------------------------------------------------------- checks shared by both APIs

function guard(ctx: Ctx, req: IncomingMessage): void {
  if (ctx.opts.readOnly) throw new ManagerError('ERR_MANAGER_READ_ONLY', 403, 'the balancer-manager is read-only');
  if (!sameOrigin(req, ctx.opts.allowedOrigins)) {
    throw new ManagerError('ERR_MANAGER_ORIGIN', 403, 'changes must come from this host (Origin or Referer)');
  }
}

function checkNonce(b: Balancer, nonce: unknown): void {
  if (!nonceMatches(b.nonce, nonce))
    throw new ManagerError('ERR_MANAGER_NONCE', 403, `wrong or missing nonce for ${b.id}`, 'nonce');
}

/** Validates against the current state, asks authorize(), applies, audits, then saves. */
async function commit(ctx: Ctx, req: IncomingMessage, b: Balancer, change: ChangeSet): Promise<void> {
  await ctx.lb.ready?.catch((err: unknown) => {
    throw new ManagerError('ERR_MANAGER_UNAVAILABLE', 503, `stored state was not loaded: ${(err as Error).message}`);
  });
  checkChangeSet(b, change);
  if (ctx.opts.authorize && !(await ctx.opts.authorize(req, change))) {
    throw new ManagerError('ERR_MANAGER_FORBIDDEN', 403, 'not authorized to make this change');
  }
  const { before, after } = applyChangeSet(b, change);
  audit(ctx, req, b, change, before, after);
  try {
    await saveBalancer(ctx.lb.store, b);
  } catch (err) {
    log.manager('%s: change applied but not saved: %s', b.id, (err as Error).message);
    // The store kept it and writes it when it can: the change lands, so this is no failure of it.
    if ((err as { queued?: unknown }).queued === true) {
      throw new ManagerError(
        'ERR_MANAGER_STORE_QUEUED',
        503,
        `the change was applied on this instance and is queued: ${(err as Error).message}`,
      );
    }
    throw new ManagerError(
      'ERR_MANAGER_STORE',
      500,
      `the change was applied but could not be saved: ${(err as Error).message}`,
    );
  }
}

function audit(
  ctx: Ctx,
  req: IncomingMessage,
  b: Balancer,
  change: ChangeSet,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): void {
  let actor: string | undefined;
  try {
    actor = ctx.opts.actor?.(req);
  } catch (err) {
    log.manager('actor() threw: %s', (err as Error).message);
  }
  const event: AuditEvent = {
    time: new Date().toISOString(),
    address: req.socket.remoteAddress,
    actor,
    balancer: b.id,
    worker: change.worker === undefined ? undefined : (findWorker(b, change.worker)?.name ?? change.worker),
    action: change.addWorker !== undefined && !change.workerEdit && !change.balancerEdit ? 'add-worker' : 'edit',
    change,
    before,
    after,
  };
  log.manager(
    'change by %s (%s) on %s%s: %j -> %j',
    actor ?? '-',
    event.address ?? '-',
    b.id,
    event.worker ? ` ${event.worker}` : '',
    before,
    after,
  );
  try {
    ctx.events.emit('audit', event);
  } catch (err) {
    log.manager('an audit listener threw: %s', (err as Error).message);
  }
}

// ---------------------------------------------------------------- JSON API

function segments(url: URL): string[] {
  try {
    return url.pathname
      .split('/')
      .slice(2)
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    throw new ManagerError('ERR_MANAGER_INVALID', 400, 'the path is not valid percent-encoding');
  }
}

async function api(ctx: Ctx, req: Req, res: ServerResponse, url: URL): Promise<void> {
  try {
    const denied = hostError(ctx, req);
    if (denied) throw denied;
    const [top, name, sub, worker, ...rest] = segments(url);
    const method = req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    if (top === undefined || (top === 'balancers' && name === undefined)) {
      if (!read) notAllowed('GET, HEAD');
      const snap = buildSnapshot(ctx.lb, ctx.opts.readOnly);
      sendJson(res, 200, top === undefined ? snap : { balancers: snap.balancers });
      return;
    }
    const action = rest.length === 1 && rest[0] === 'drain' ? 'drain' : undefined;
    if (
      top !== 'balancers' ||
      name === undefined ||
      (rest.length > 0 && !action) ||
      (sub !== undefined && sub !== 'workers')
    ) {
      throw notFound();
    }
    const b = findBalancer(ctx, balancerName(name, 'balancer'), 'balancer');
    if (sub === undefined) {
      await balancerResource(ctx, req, res, b, read, method);
      return;
    }
    if (worker === undefined) {
      await workersResource(ctx, req, res, b, read, method);
      return;
    }
    if (action === 'drain') await drainResource(ctx, req, res, b, worker, method);
    else await workerResource(ctx, req, res, b, worker, read, method);
  } catch (err) {
    const e = asManagerError(err, false);
    if (e instanceof NotAllowed) res.setHeader('Allow', e.allow);
    log.manager('refused %s %s: %s', req.method, url.pathname, e.message);
    sendJson(res, e.status, errorBody(e));
  }
}

function notFound(): ManagerError {
  return new ManagerError('ERR_MANAGER_NOT_FOUND', 404, 'no such API resource (see docs/manager.md)');
}

class NotAllowed extends ManagerError {
  readonly allow: string;
  constructor(allow: string) {
    super('ERR_MANAGER_METHOD', 405, `method not allowed here (allowed: ${allow})`);
    this.allow = allow;
  }
}

function notAllowed(allow: string): never {
  throw new NotAllowed(allow);
}

async function jsonChange(ctx: Ctx, req: IncomingMessage, b: Balancer): Promise<Fields> {
  guard(ctx, req);
  const { fields, json } = await readFields(req, ctx.opts.bodyLimit);
  if (!json) throw new ManagerError('ERR_MANAGER_BODY', 415, 'the JSON API takes application/json');
  const header = req.headers['x-balancer-nonce'];
  checkNonce(b, fields.nonce ?? (typeof header === 'string' ? header : undefined));
  const rest = { ...fields };
  delete rest.nonce;
  return rest;
}

async function balancerResource(
  ctx: Ctx,
  req: IncomingMessage,
  res: ServerResponse,
  b: Balancer,
  read: boolean,
  method: string,
): Promise<void> {
  if (read) {
    sendJson(res, 200, { balancer: balancerSnapshot(b, ctx.opts.readOnly) });
    return;
  }
  if (method !== 'PATCH' && method !== 'POST') notAllowed('GET, HEAD, PATCH, POST');
  const fields = await jsonChange(ctx, req, b);
  await commit(ctx, req, b, { balancer: b.name, balancerEdit: parseJsonBalancerEdit(fields) });
  sendJson(res, 200, { balancer: balancerSnapshot(b, false) });
}

async function workersResource(
  ctx: Ctx,
  req: IncomingMessage,
  res: ServerResponse,
  b: Balancer,
  read: boolean,
  method: string,
): Promise<void> {
  if (read) {
    sendJson(res, 200, { workers: balancerSnapshot(b, ctx.opts.readOnly).workers });
    return;
  }
  if (method !== 'POST') notAllowed('GET, HEAD, POST');
  const fields = await jsonChange(ctx, req, b);
  const url = parseJsonAddWorker(fields);
  const count = b.workers.length;
  await commit(ctx, req, b, { balancer: b.name, addWorker: url });
  const added = b.workers[count];
  sendJson(res, 201, { worker: added ? workerSnapshot(b, added) : null });
}

async function workerResource(
  ctx: Ctx,
  req: IncomingMessage,
  res: ServerResponse,
  b: Balancer,
  name: string,
  read: boolean,
  method: string,
): Promise<void> {
  const w = findWorker(b, name);
  if (!w) throw new ManagerError('ERR_MANAGER_NOT_FOUND', 404, `${b.id} has no worker ${name}`, 'worker');
  if (read) {
    sendJson(res, 200, { worker: workerSnapshot(b, w) });
    return;
  }
  if (method !== 'PATCH' && method !== 'POST') notAllowed('GET, HEAD, PATCH, POST');
  const fields = await jsonChange(ctx, req, b);
  await commit(ctx, req, b, { balancer: b.name, worker: w.name, workerEdit: parseJsonWorkerEdit(fields) });
  sendJson(res, 200, { worker: workerSnapshot(b, w) });
}

/**
 * POST …/workers/:url/drain { nonce, timeoutMs? }: sets N through the usual change path (audited,
 * saved), then answers once the worker has no request in flight (drained: true) or at the
 * deadline (drained: false, with what is still busy) — the step before disabling it in a deploy.
 */
async function drainResource(
  ctx: Ctx,
  req: IncomingMessage,
  res: ServerResponse,
  b: Balancer,
  name: string,
  method: string,
): Promise<void> {
  if (method !== 'POST') notAllowed('POST');
  const w = findWorker(b, name);
  if (!w) throw new ManagerError('ERR_MANAGER_NOT_FOUND', 404, `${b.id} has no worker ${name}`, 'worker');
  const fields = await jsonChange(ctx, req, b);
  const { timeoutMs = 30_000, ...others } = fields;
  if (Object.keys(others).length > 0) {
    throw new ManagerError(
      'ERR_MANAGER_INVALID',
      400,
      `unknown field ${Object.keys(others)[0] ?? ''}`,
      Object.keys(others)[0],
    );
  }
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 600_000) {
    throw new ManagerError('ERR_MANAGER_INVALID', 400, 'timeoutMs is not an integer in 0..600000', 'timeoutMs');
  }
  if (!w.draining) await commit(ctx, req, b, { balancer: b.name, worker: w.name, workerEdit: { flags: { N: true } } });
  const drained = await drainWorker(b, w, timeoutMs);
  sendJson(res, 200, { drained, worker: workerSnapshot(b, w) });
}
