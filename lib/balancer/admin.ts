import type { Balancer } from './balancer.js';
import { hashKeyText, type HashKeySpec } from '../config/scheduler-options.js';
import type { Worker } from '../core/worker.js';
import type { MemberSpec, StickyNames } from '../config/spec.js';
import type { PersistedBalancer, PersistedWorker } from '../model/store.js';
import { validateMember } from '../config/validate.js';
import { ConfigError } from '../errors.js';
import { hasScheduler } from '../schedulers/registry.js';
import { bitOf, statusLetters } from '../model/status.js';
import { log } from '../debug.js';
import type { HealthCheckSpec } from '../config/health-spec.js';
import { editedHealthCheck, persistedHealth, sameHealthCheck, type HealthEdit } from './health-edit.js';

/** Status flags an administrator may set (E is health state and only the retry timer clears it). */
export const ADMIN_LETTERS = ['I', 'N', 'D', 'H', 'R', 'S', 'C'] as const;
export type AdminLetter = (typeof ADMIN_LETTERS)[number];
/** Flags that survive a restart; C is re-learned by health checks. */
const PERSISTED_LETTERS = ['D', 'S', 'I', 'H', 'R', 'N'] as const;

export interface WorkerEdit {
  /** loadfactor × 100 (Apache's lbfactor). */
  lbfactor?: number;
  lbset?: number;
  route?: string;
  redirect?: string;
  flags?: Partial<Record<AdminLetter, boolean>>;
  /** Active health check settings to change (the others are kept). */
  health?: HealthEdit;
}

export interface BalancerEdit {
  lbmethod?: string;
  timeoutMs?: number;
  maxattempts?: number;
  nofailover?: boolean;
  /** null clears stickiness. */
  sticky?: StickyNames | null;
  hashkey?: HashKeySpec;
  hashbalancefactor?: number;
  p2cbias?: number;
  ewmadecayMs?: number;
  panic?: number;
}

/** One validated request for change; applied all-or-nothing by applyChangeSet. */
export interface ChangeSet {
  /** Balancer name (lower case, without "balancer://"). */
  balancer: string;
  /** Worker name the workerEdit is for. */
  worker?: string;
  workerEdit?: WorkerEdit;
  balancerEdit?: BalancerEdit;
  /** URL of a worker to add (it starts disabled). */
  addWorker?: string;
}

export type AdminErrorKind = 'invalid' | 'not-found' | 'conflict';

/** A change that cannot be applied; `field` is the generic name (worker, addWorker, lbmethod…). */
export class AdminError extends Error {
  readonly kind: AdminErrorKind;
  readonly field: string;
  constructor(kind: AdminErrorKind, field: string, message: string) {
    super(message);
    this.name = 'AdminError';
    this.kind = kind;
    this.field = field;
  }
}

/** What a change did to the fields it touched, for the audit trail. */
export interface AppliedChange {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/** Worker names as validateMember builds them: origin plus base path without trailing slash. */
export function workerKey(input: string): string | undefined {
  try {
    const u = new URL(input);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

export function findWorker(b: Balancer, name: string): Worker | undefined {
  const exact = b.worker(name);
  if (exact) return exact;
  const key = workerKey(name);
  return key === undefined ? undefined : b.worker(key);
}

/** Sticky names as Apache's stickysession string: "A" or "A|B". */
export function stickyString(s: StickyNames | undefined | null): string | null {
  if (!s) return null;
  return s.cookie === s.param ? s.cookie : `${s.cookie}|${s.param}`;
}

interface Prepared {
  worker: Worker | undefined;
  member: MemberSpec | undefined;
  /** The worker's check after the edit, when the edit changes it. */
  health?: { spec: HealthCheckSpec | undefined };
}

/** Checks everything that depends on the balancer's current state, before anything changes. */
function prepare(b: Balancer, cs: ChangeSet): Prepared {
  let worker: Worker | undefined;
  if (cs.worker !== undefined) {
    worker = findWorker(b, cs.worker);
    if (!worker) throw new AdminError('not-found', 'worker', `${b.id} has no worker ${cs.worker}`);
  }
  if (cs.workerEdit && !worker) throw new AdminError('invalid', 'worker', 'a worker change needs the worker');
  const lbm = cs.balancerEdit?.lbmethod;
  if (lbm !== undefined && !hasScheduler(lbm)) {
    throw new AdminError('invalid', 'lbmethod', `${lbm} is not a registered scheduler`);
  }
  const p: Prepared = { worker, member: cs.addWorker === undefined ? undefined : prepareMember(b, cs.addWorker) };
  const he = cs.workerEdit?.health;
  if (he && worker) {
    const spec = prepareHealth(worker, he);
    if (!sameHealthCheck(spec, worker.health)) p.health = { spec };
  }
  return p;
}

function prepareHealth(w: Worker, edit: HealthEdit): HealthCheckSpec | undefined {
  try {
    return editedHealthCheck(w, edit);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const key = err.field.replace(/^worker\./, '');
    throw new AdminError('invalid', key, `${key}: ${err.message.slice(err.field.length + 2)}`);
  }
}

function prepareMember(b: Balancer, url: string): MemberSpec {
  let spec: MemberSpec;
  try {
    // A worker added at run time starts disabled, as in Apache: enable it once it is ready.
    spec = validateMember('addWorker', { url, status: '+D' });
  } catch (err) {
    if (err instanceof ConfigError) throw new AdminError('invalid', 'addWorker', err.message);
    throw err;
  }
  if (b.worker(spec.name)) throw new AdminError('conflict', 'addWorker', `${spec.name} is already a member of ${b.id}`);
  if (b.slotsUsed >= b.maxWorkers) {
    throw new AdminError('conflict', 'addWorker', `${b.id} has no free worker slot (growth is used up)`);
  }
  return spec;
}

/** Throws an AdminError if the change cannot be applied as a whole; changes nothing. */
export function checkChangeSet(b: Balancer, cs: ChangeSet): void {
  prepare(b, cs);
}

/** Applies a change set through the Balancer's methods; checks first, so nothing is half-applied. */
export function applyChangeSet(b: Balancer, cs: ChangeSet): AppliedChange {
  const p = prepare(b, cs);
  const before = describe(b, cs, p.worker);
  if (cs.balancerEdit) applyBalancerEdit(b, cs.balancerEdit);
  if (cs.workerEdit && p.worker) applyWorkerEdit(b, p.worker, cs.workerEdit);
  if (p.health && p.worker) {
    b.setHealthCheck(p.worker, p.health.spec, 'changed by the manager');
    healthEdited(b).add(p.worker.name);
  }
  if (p.member && cs.addWorker !== undefined) {
    b.addWorker(p.member);
    addedUrls(b).push(cs.addWorker);
  }
  return { before, after: describe(b, cs, p.worker) };
}

function applyBalancerEdit(b: Balancer, e: BalancerEdit): void {
  // Apache re-creates the scheduler only when the method really changes (same name: state kept).
  if (e.lbmethod !== undefined && e.lbmethod !== b.lbmethod) b.setLbmethod(e.lbmethod);
  if (e.timeoutMs !== undefined) b.timeoutMs = e.timeoutMs;
  if (e.maxattempts !== undefined) b.maxattemptsSet = e.maxattempts;
  if (e.nofailover !== undefined) b.nofailover = e.nofailover;
  if (e.sticky !== undefined) b.sticky = e.sticky ?? undefined;
  if (e.hashkey !== undefined) b.hashkey = e.hashkey;
  if (e.hashbalancefactor !== undefined) b.hashbalancefactor = e.hashbalancefactor;
  if (e.p2cbias !== undefined) b.p2cbias = e.p2cbias;
  if (e.ewmadecayMs !== undefined) b.ewmadecayMs = e.ewmadecayMs;
  if (e.panic !== undefined && e.panic !== b.panic) {
    b.panic = e.panic;
    b.selector.inputsChanged(); // the cached election may be one panic would now change
  }
}

function applyWorkerEdit(b: Balancer, w: Worker, e: WorkerEdit): void {
  if (e.lbset !== undefined && e.lbset !== w.lbset) b.setLbset(w, e.lbset);
  if (e.route !== undefined) w.route = e.route;
  if (e.redirect !== undefined) w.redirect = e.redirect;
  for (const letter of ADMIN_LETTERS) {
    const on = e.flags?.[letter];
    if (on !== undefined) b.setFlag(w, bitOf(letter), on, `manager: ${letter} ${on ? 'on' : 'off'}`);
  }
  if (e.lbfactor !== undefined) {
    w.lbfactor = e.lbfactor;
    // Apache's recalc_factors: any loadfactor edit restarts every worker's credit.
    b.recalcFactors();
  }
}

/** The touched fields, in API names, so before and after line up. */
function describe(b: Balancer, cs: ChangeSet, w: Worker | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const be = cs.balancerEdit;
  if (be?.lbmethod !== undefined) out.lbmethod = b.lbmethod;
  if (be?.timeoutMs !== undefined) out.timeoutMs = b.timeoutMs;
  if (be?.maxattempts !== undefined) out.maxattempts = b.maxAttempts;
  if (be?.nofailover !== undefined) out.nofailover = b.nofailover;
  if (be?.sticky !== undefined) out.stickysession = stickyString(b.sticky);
  if (be?.hashkey !== undefined) out.hashkey = hashKeyText(b.hashkey);
  if (be?.hashbalancefactor !== undefined) out.hashbalancefactor = b.hashbalancefactor;
  if (be?.p2cbias !== undefined) out.p2cbias = b.p2cbias;
  if (be?.ewmadecayMs !== undefined) out.ewmadecayMs = b.ewmadecayMs;
  if (be?.panic !== undefined) out.panic = b.panic;
  const we = cs.workerEdit;
  if (w && we) {
    if (we.lbfactor !== undefined) out.loadfactor = w.lbfactor / 100;
    if (we.lbset !== undefined) out.lbset = w.lbset;
    if (we.route !== undefined) out.route = w.route;
    if (we.redirect !== undefined) out.redirect = w.redirect;
    if (we.flags) out.status = statusLetters(w.status);
    if (we.health) out.health = persistedHealth(w.health, w.basePath);
  }
  if (cs.addWorker !== undefined) out.workers = b.workers.map((x) => x.name);
  return out;
}

// ---------------------------------------------------------------- persistence

const added = new WeakMap<Balancer, string[]>();
const versions = new WeakMap<Balancer, number>();
/** Workers whose check the manager changed: only theirs is stored, so a config change still reaches the others. */
const healthEdits = new WeakMap<Balancer, Set<string>>();

function healthEdited(b: Balancer): Set<string> {
  let set = healthEdits.get(b);
  if (!set) healthEdits.set(b, (set = new Set()));
  return set;
}

function addedUrls(b: Balancer): string[] {
  let list = added.get(b);
  if (!list) added.set(b, (list = []));
  return list;
}

function adminLetters(w: Worker): string {
  return PERSISTED_LETTERS.filter((l) => w.has(bitOf(l))).join('');
}

function persistedWorker(b: Balancer, w: Worker): PersistedWorker {
  return {
    name: w.name,
    lbfactor: w.lbfactor,
    lbset: w.lbset,
    route: w.route,
    redirect: w.redirect,
    status: adminLetters(w),
    ...(healthEdited(b).has(w.name) ? { health: persistedHealth(w.health, w.basePath) } : {}),
  };
}

/** The balancer's admin state as the store keeps it; each call takes the next version. */
export function toPersisted(b: Balancer): PersistedBalancer {
  const version = (versions.get(b) ?? 0) + 1;
  versions.set(b, version);
  const held = kept.get(b);
  const workers: PersistedWorker[] = b.workers.map((w) => held?.get(w.name) ?? persistedWorker(b, w));
  // Discovered workers whose address is gone keep their edits in the store until they come back.
  if (held) for (const [name, pw] of held) if (!b.worker(name)) workers.push(pw);
  const state: PersistedBalancer = {
    version,
    lbmethod: b.lbmethod,
    timeoutMs: b.timeoutMs,
    nofailover: b.nofailover,
    stickysession: stickyString(b.sticky),
    workers,
    added: [...addedUrls(b)],
  };
  if (b.maxattemptsSet !== undefined) state.maxattempts = b.maxattemptsSet;
  return state;
}

/**
 * Applies stored admin state at start-up: re-adds workers added at run time, then the balancer
 * settings and each known worker's settings. Entries that no longer fit the configuration (an
 * unknown scheduler, a worker no longer configured, no free slot) are skipped and logged.
 */
export function applyPersisted(b: Balancer, s: PersistedBalancer): void {
  versions.set(b, Math.max(versions.get(b) ?? 0, s.version));
  for (const url of s.added) restoreAdded(b, url);
  if (s.lbmethod !== undefined) {
    if (hasScheduler(s.lbmethod)) {
      if (s.lbmethod !== b.lbmethod) b.setLbmethod(s.lbmethod);
    } else log.config('%s: stored lbmethod %s is not registered; kept %s', b.id, s.lbmethod, b.lbmethod);
  }
  if (s.timeoutMs !== undefined) b.timeoutMs = s.timeoutMs;
  if (s.maxattempts !== undefined) b.maxattemptsSet = s.maxattempts;
  if (s.nofailover !== undefined) b.nofailover = s.nofailover;
  if (s.stickysession !== undefined) b.sticky = parseStoredSticky(s.stickysession);
  for (const pw of s.workers) {
    const w = b.worker(pw.name);
    const held = kept.get(b);
    // A discovered worker being drained keeps draining; its stored edits wait for its return.
    if (held?.has(pw.name) || (!w && b.discovery.length > 0)) keep(b, pw);
    else if (w) restoreWorker(b, w, pw);
    else log.config('%s: stored worker %s is not a member any more; skipped', b.id, pw.name);
  }
}

function restoreAdded(b: Balancer, url: string): void {
  try {
    const spec = prepareMember(b, url);
    b.addWorker(spec);
    addedUrls(b).push(url);
  } catch (err) {
    log.config('%s: stored added worker %s not restored: %s', b.id, url, (err as Error).message);
  }
}

function restoreWorker(b: Balancer, w: Worker, pw: PersistedWorker): void {
  if (pw.lbfactor !== undefined) w.lbfactor = pw.lbfactor;
  if (pw.lbset !== undefined && pw.lbset !== w.lbset) b.setLbset(w, pw.lbset);
  if (pw.route !== undefined) w.route = pw.route;
  if (pw.redirect !== undefined) w.redirect = pw.redirect;
  if (pw.status !== undefined) {
    const want = pw.status;
    for (const l of PERSISTED_LETTERS) b.setFlag(w, bitOf(l), want.includes(l), 'restored from the state store');
  }
  if (pw.health !== undefined) restoreHealth(b, w, pw.health);
}

/** A stored check is validated like config: one that does not validate (a damaged store) is skipped. */
function restoreHealth(b: Balancer, w: Worker, stored: HealthEdit): void {
  let spec: HealthCheckSpec | undefined;
  try {
    spec = editedHealthCheck(w, stored);
  } catch (err) {
    log.config('%s: stored health check of %s not applied: %s', b.id, w.name, (err as Error).message);
    return;
  }
  healthEdited(b).add(w.name);
  if (!sameHealthCheck(spec, w.health)) b.setHealthCheck(w, spec, 'restored from the state store');
}

function parseStoredSticky(s: string | null): StickyNames | undefined {
  if (s === null || s === '') return undefined;
  const [cookie = '', param = cookie] = s.split('|');
  return { cookie, param };
}

// ---------------------------------------------------------------- discovered workers

/** Admin state of discovered workers whose address is gone (or going), by worker name. */
const kept = new WeakMap<Balancer, Map<string, PersistedWorker>>();
/** Addresses come and go (a new one per pod): only the latest this many are remembered. */
const MAX_KEPT = 256;

function keep(b: Balancer, pw: PersistedWorker): void {
  let held = kept.get(b);
  if (!held) kept.set(b, (held = new Map<string, PersistedWorker>()));
  held.delete(pw.name);
  held.set(pw.name, pw);
  if (held.size > MAX_KEPT) held.delete(held.keys().next().value!);
}

/**
 * A discovered worker's address is gone: keeps its admin state (the one saved for it from now on)
 * before draining it sets N, so the worker comes back as the administrator left it.
 */
export function keepAdminState(b: Balancer, w: Worker): void {
  if (!kept.get(b)?.has(w.name)) keep(b, persistedWorker(b, w));
}

/** Applies and forgets the admin state kept for a discovered worker that is back; true if there was one. */
export function restoreAdminState(b: Balancer, w: Worker): boolean {
  const held = kept.get(b);
  const pw = held?.get(w.name);
  if (!held || !pw) return false;
  held.delete(w.name);
  restoreWorker(b, w, pw);
  return true;
}
