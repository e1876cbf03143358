import type { StickyNames } from '../config/spec.js';
import type { AdminLetter, BalancerEdit, ChangeSet, WorkerEdit } from '../balancer/admin.js';
import { ADMIN_LETTERS } from '../balancer/admin.js';
import { parseLoadfactor, parseToken } from '../config/parse.js';
import { hasScheduler, listSchedulers } from '../schedulers/registry.js';
import { ConfigError } from '../errors.js';
import { ManagerError } from './types.js';
import type { Fields } from './body.js';
import { HEALTH_EDIT_KEYS, type HealthEdit } from '../balancer/health-edit.js';
import { SCHEDULER_FORM_FIELDS, SCHEDULER_JSON_FIELDS, schedulerEdit } from './scheduler-edits.js';

/** A parsed request for change: the change set plus the nonce it claims. */
export interface ParsedChange {
  change: ChangeSet;
  nonce: unknown;
}

function invalid(field: string, message: string): ManagerError {
  return new ManagerError('ERR_MANAGER_INVALID', 400, `${field}: ${message}`, field);
}

/** Balancer names as the manager accepts them: "name" or "balancer://name", any case. */
export function balancerName(v: unknown, field = 'b'): string {
  if (typeof v !== 'string' || v === '') throw invalid(field, 'names no balancer');
  return v.replace(/^balancer:\/\//i, '').toLowerCase();
}

// ---------------------------------------------------------------- value parsers (shared)

function text(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw invalid(field, 'is not a string or number');
}

/** 1..100 with at most two decimals ("3", "1.5", 2.25). */
export function loadfactor(v: unknown, field: string): number {
  const s = text(v, field).trim();
  if (!/^\d{1,3}(\.\d+)?$/.test(s)) throw invalid(field, `${JSON.stringify(s)} is not a number in 1..100`);
  try {
    return parseLoadfactor(field, s);
  } catch (err) {
    throw invalid(field, `${JSON.stringify(s)} ${err instanceof ConfigError ? err.allowed : 'is not in 1..100'}`);
  }
}

export function integer(v: unknown, field: string, min: number, max: number): number {
  const s = text(v, field).trim();
  const n = /^\d{1,9}$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= max)) throw invalid(field, `${JSON.stringify(s)} is not an integer in ${min}..${max}`);
  return n;
}

/** Route, redirect: empty clears; otherwise a token of at most 63 visible characters. */
export function token(v: unknown, field: string): string {
  try {
    return parseToken(field, typeof v === 'string' ? v : undefined);
  } catch {
    throw invalid(field, 'is not at most 63 visible ASCII characters without ; , | = (empty clears)');
  }
}

/** Balancer timeout in seconds, 0..7200; up to three decimals so a configured "1.5s" round-trips. */
export function timeoutSeconds(v: unknown, field: string): number {
  const s = text(v, field).trim();
  const n = /^\d{1,4}(\.\d{1,3})?$/.test(s) ? Number(s) : NaN;
  if (!(n >= 0 && n <= 7200)) throw invalid(field, `${JSON.stringify(s)} is not a number of seconds in 0..7200`);
  return Math.round(n * 1000);
}

export function onOff01(v: unknown, field: string): boolean {
  if (v === '1' || v === 1 || v === true) return true;
  if (v === '0' || v === 0 || v === false) return false;
  throw invalid(field, 'is not 0 or 1');
}

export function lbmethod(v: unknown, field: string): string {
  if (typeof v !== 'string' || !hasScheduler(v)) {
    throw invalid(field, `is not a registered scheduler (${listSchedulers().join(', ')})`);
  }
  return v;
}

/** "COOKIE" or "COOKIE|URLPARAM" (spaces around "|" are dropped, fixing Apache's "A | B"); "-" clears. */
export function sticky(v: unknown, field: string): StickyNames | null {
  if (v === null) return null;
  if (typeof v !== 'string') throw invalid(field, 'is not a name, "COOKIE|URLPARAM" or "-"');
  const s = v.trim();
  if (s === '-' || s === '') return null;
  const parts = s.split('|').map((p) => p.trim());
  if (parts.length > 2 || parts.some((p) => p === '')) throw invalid(field, 'is not "COOKIE" or "COOKIE|URLPARAM"');
  const [cookie, param = cookie] = parts.map((p) => token(p, field)) as [string, string?];
  return { cookie, param };
}

// ---------------------------------------------------------------- Apache's form fields

/** Apache 2.4's health-check fields and the option each one sets. */
const HC_FORM_FIELDS = {
  w_hm: 'hcmethod',
  w_hi: 'hcinterval',
  w_hp: 'hcpasses',
  w_hf: 'hcfails',
  w_hu: 'hcuri',
  w_he: 'hcexpect',
} as const satisfies Record<string, keyof HealthEdit>;
const WORKER_FIELDS = new Set([
  'w_lf',
  'w_ls',
  'w_wr',
  'w_rr',
  ...ADMIN_LETTERS.map((l) => `w_status_${l}`),
  ...Object.keys(HC_FORM_FIELDS),
]);
const BALANCER_FIELDS = new Set([
  'b_lbm',
  'b_tmo',
  'b_max',
  'b_sforce',
  'b_ss',
  'b_nwrkr',
  'b_wyes',
  ...SCHEDULER_FORM_FIELDS,
]);
const SELECTORS = new Set(['b', 'w', 'nonce']);

function checkFormKeys(f: Fields): void {
  for (const k of Object.keys(f)) {
    if (!SELECTORS.has(k) && !WORKER_FIELDS.has(k) && !BALANCER_FIELDS.has(k))
      throw invalid(k, 'is not a balancer-manager field');
  }
}

function formWorkerEdit(f: Fields): WorkerEdit | undefined {
  const e: WorkerEdit = {};
  if (f.w_lf !== undefined) e.lbfactor = loadfactor(f.w_lf, 'w_lf');
  if (f.w_ls !== undefined) e.lbset = integer(f.w_ls, 'w_ls', 0, 99);
  if (f.w_wr !== undefined) e.route = token(f.w_wr, 'w_wr');
  if (f.w_rr !== undefined) e.redirect = token(f.w_rr, 'w_rr');
  const flags: Partial<Record<AdminLetter, boolean>> = {};
  for (const l of ADMIN_LETTERS) {
    const v = f[`w_status_${l}`];
    if (v !== undefined) flags[l] = onOff01(v, `w_status_${l}`);
  }
  if (Object.keys(flags).length > 0) e.flags = flags;
  const health = formHealthEdit(f);
  if (health) e.health = health;
  return Object.keys(e).length > 0 ? e : undefined;
}

/** The page posts every field; an empty one changes nothing. */
function formHealthEdit(f: Fields): HealthEdit | undefined {
  const e: HealthEdit = {};
  for (const [field, key] of Object.entries(HC_FORM_FIELDS)) {
    const v = f[field];
    if (v === undefined || text(v, field).trim() === '') continue;
    Object.assign(e, { [key]: healthValue(key, v, field) });
  }
  return Object.keys(e).length > 0 ? e : undefined;
}

/** One health-check value, checked for its form here; the check as a whole is validated like config. */
function healthValue(key: keyof HealthEdit, v: unknown, field: string): string | number {
  if (key === 'hcpasses' || key === 'hcfails') return integer(v, field, 1, 1000);
  const s = text(v, field).trim();
  if (s.length > 200) throw invalid(field, 'is longer than 200 characters');
  // Apache reads the manager's interval in milliseconds when it has no unit.
  if (key === 'hcinterval' && /^\d+$/.test(s)) return Number(s);
  return s;
}

function formBalancerEdit(f: Fields): BalancerEdit | undefined {
  const e: BalancerEdit = {};
  if (f.b_lbm !== undefined) e.lbmethod = lbmethod(f.b_lbm, 'b_lbm');
  if (f.b_tmo !== undefined) e.timeoutMs = timeoutSeconds(f.b_tmo, 'b_tmo');
  if (f.b_max !== undefined) e.maxattempts = integer(f.b_max, 'b_max', 0, 99);
  if (f.b_sforce !== undefined) e.nofailover = onOff01(f.b_sforce, 'b_sforce');
  // As in Apache, an empty StickySession box changes nothing; "-" clears.
  if (f.b_ss !== undefined && text(f.b_ss, 'b_ss').trim() !== '') e.sticky = sticky(f.b_ss, 'b_ss');
  schedulerEdit(f, SCHEDULER_FORM_FIELDS, e);
  return Object.keys(e).length > 0 ? e : undefined;
}

function formAddWorker(f: Fields): string | undefined {
  const url = f.b_nwrkr === undefined ? '' : text(f.b_nwrkr, 'b_nwrkr').trim();
  if (url === '') return undefined;
  // Apache's "Are you sure?" box: without it the new worker is not added.
  if (f.b_wyes !== '1' && f.b_wyes !== 1 && f.b_wyes !== true)
    throw invalid('b_wyes', 'confirm adding a worker with b_wyes=1');
  return url;
}

/** Apache 2.4's form fields (b, w, nonce, w_*, b_*) → one change set; throws a 400 naming the field. */
export function parseFormChange(f: Fields): ParsedChange {
  checkFormKeys(f);
  const hasWorkerField = Object.keys(f).some((k) => WORKER_FIELDS.has(k));
  // CVE-2007-6422: a worker is only ever looked up inside a named balancer.
  if (f.b === undefined || f.b === '') throw invalid('b', 'is required (the balancer the change is for)');
  const change: ChangeSet = { balancer: balancerName(f.b) };
  if (f.w !== undefined && f.w !== '') change.worker = text(f.w, 'w');
  if (hasWorkerField && change.worker === undefined) throw invalid('w', 'is required with w_* fields');
  const we = formWorkerEdit(f);
  const be = formBalancerEdit(f);
  const add = formAddWorker(f);
  if (we) change.workerEdit = we;
  if (be) change.balancerEdit = be;
  if (add !== undefined) change.addWorker = add;
  if (!we && !be && add === undefined) throw invalid(change.worker === undefined ? 'b' : 'w', 'no change was given');
  return { change, nonce: f.nonce };
}

// ---------------------------------------------------------------- JSON API bodies

function checkKeys(f: Fields, allowed: readonly string[]): void {
  for (const k of Object.keys(f))
    if (k !== 'nonce' && !allowed.includes(k)) throw invalid(k, `is not a field here (${allowed.join(', ')})`);
}

function jsonFlags(v: unknown): Partial<Record<AdminLetter, boolean>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalid('flags', 'is not an object such as {"D": true}');
  const out: Partial<Record<AdminLetter, boolean>> = {};
  for (const [k, on] of Object.entries(v)) {
    if (!(ADMIN_LETTERS as readonly string[]).includes(k))
      throw invalid(`flags.${k}`, `is not one of ${ADMIN_LETTERS.join(' ')}`);
    if (typeof on !== 'boolean') throw invalid(`flags.${k}`, 'is not true or false');
    out[k as AdminLetter] = on;
  }
  return out;
}

function nonEmpty<T extends object>(e: T, what: string): T {
  if (Object.keys(e).length === 0) throw invalid(what, 'no change was given');
  return e;
}

/** PATCH …/workers/:worker body: loadfactor, lbset, route, redirect, flags, and the hc* options. */
export function parseJsonWorkerEdit(f: Fields): WorkerEdit {
  checkKeys(f, ['loadfactor', 'lbset', 'route', 'redirect', 'flags', ...HEALTH_EDIT_KEYS]);
  const e: WorkerEdit = {};
  if (f.loadfactor !== undefined) e.lbfactor = loadfactor(f.loadfactor, 'loadfactor');
  if (f.lbset !== undefined) e.lbset = integer(f.lbset, 'lbset', 0, 99);
  if (f.route !== undefined) e.route = token(f.route, 'route');
  if (f.redirect !== undefined) e.redirect = token(f.redirect, 'redirect');
  if (f.flags !== undefined) e.flags = jsonFlags(f.flags);
  const health: HealthEdit = {};
  for (const key of HEALTH_EDIT_KEYS) {
    if (f[key] !== undefined) Object.assign(health, { [key]: healthValue(key, f[key], key) });
  }
  if (Object.keys(health).length > 0) e.health = health;
  return nonEmpty(e, 'body');
}

function jsonBool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw invalid(field, 'is not true or false');
  return v;
}

/** PATCH …/balancers/:name body: lbmethod, timeoutMs, maxattempts, nofailover, stickysession. */
export function parseJsonBalancerEdit(f: Fields): BalancerEdit {
  checkKeys(f, ['lbmethod', 'timeoutMs', 'maxattempts', 'nofailover', 'stickysession', ...SCHEDULER_JSON_FIELDS]);
  const e: BalancerEdit = {};
  if (f.lbmethod !== undefined) e.lbmethod = lbmethod(f.lbmethod, 'lbmethod');
  if (f.timeoutMs !== undefined) e.timeoutMs = integer(f.timeoutMs, 'timeoutMs', 0, 7_200_000);
  if (f.maxattempts !== undefined) e.maxattempts = integer(f.maxattempts, 'maxattempts', 0, 99);
  if (f.nofailover !== undefined) e.nofailover = jsonBool(f.nofailover, 'nofailover');
  if (f.stickysession !== undefined) e.sticky = sticky(f.stickysession, 'stickysession');
  schedulerEdit(f, SCHEDULER_JSON_FIELDS, e);
  return nonEmpty(e, 'body');
}

/** POST …/balancers/:name/workers body: { url }. */
export function parseJsonAddWorker(f: Fields): string {
  checkKeys(f, ['url']);
  if (typeof f.url !== 'string' || f.url.trim() === '') throw invalid('url', 'is required (http:// or https:// URL)');
  return f.url.trim();
}
