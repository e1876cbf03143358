import type { InstanceCounters, PersistedBalancer, PersistedWorker, SharedWorkerState } from '../../model/store.js';
import { isPersistedHealthCheck } from '../../model/store.js';
import { SETTINGS_FIELD, addedField, decodeName, workerField } from './keys.js';

/**
 * One versioned value, stored as "<version>|<instance>|<JSON>". The newer of two records is the one
 * with the higher version; equal versions go to the greater instance id (byte order), so every
 * process and the Lua script pick the same winner whatever order they see the records in.
 */
export interface Rec {
  v: number;
  by: string;
  /** The JSON part: what is compared to tell whether a value changed. */
  json: string;
  raw: string;
}

export function formatRec(v: number, by: string, json: string): Rec {
  return { v, by, json, raw: `${v}|${by}|${json}` };
}

export function parseRec(raw: string): Rec | undefined {
  const m = /^(\d{1,15})\|([A-Za-z0-9._-]{1,64})\|/.exec(raw);
  if (!m) return undefined;
  return { v: Number(m[1]), by: m[2]!, json: raw.slice(m[0].length), raw };
}

/** True if `a` wins over `b` (an absent record always loses). */
export function wins(a: Pick<Rec, 'v' | 'by'>, b: Pick<Rec, 'v' | 'by'> | undefined): boolean {
  if (!b) return true;
  if (a.v !== b.v) return a.v > b.v;
  return Buffer.compare(Buffer.from(a.by), Buffer.from(b.by)) > 0;
}

// ---------------------------------------------------------------- admin state

/** The JSON of each admin field, keys in a fixed order so equal states give equal strings. */
export function adminFields(state: PersistedBalancer): Map<string, string> {
  const out = new Map<string, string>();
  out.set(
    SETTINGS_FIELD,
    JSON.stringify({
      lbmethod: state.lbmethod,
      timeoutMs: state.timeoutMs,
      maxattempts: state.maxattempts,
      nofailover: state.nofailover,
      stickysession: state.stickysession,
    }),
  );
  for (const w of state.workers) {
    out.set(
      workerField(w.name),
      JSON.stringify({
        name: w.name,
        lbfactor: w.lbfactor,
        lbset: w.lbset,
        route: w.route,
        redirect: w.redirect,
        status: w.status,
        health: w.health,
      }),
    );
  }
  for (const url of state.added) out.set(addedField(url), JSON.stringify({ url }));
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

const optional = (v: unknown, type: 'string' | 'number' | 'boolean'): boolean => v === undefined || typeof v === type;
const optionalInt = (v: unknown, min: number, max: number): boolean =>
  v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);

type Settings = Pick<PersistedBalancer, 'lbmethod' | 'timeoutMs' | 'maxattempts' | 'nofailover' | 'stickysession'>;

function parseSettings(json: string): Settings | undefined {
  const d = parseJson(json);
  if (!isRecord(d)) return undefined;
  if (!optional(d.lbmethod, 'string') || !optional(d.nofailover, 'boolean')) return undefined;
  if (!optionalInt(d.timeoutMs, 0, 7_200_000) || !optionalInt(d.maxattempts, 0, 99)) return undefined;
  if (d.stickysession !== undefined && d.stickysession !== null && typeof d.stickysession !== 'string')
    return undefined;
  const out: Settings = {};
  if (d.lbmethod !== undefined) out.lbmethod = d.lbmethod as string;
  if (d.timeoutMs !== undefined) out.timeoutMs = d.timeoutMs as number;
  if (d.maxattempts !== undefined) out.maxattempts = d.maxattempts as number;
  if (d.nofailover !== undefined) out.nofailover = d.nofailover as boolean;
  if (d.stickysession !== undefined) out.stickysession = d.stickysession;
  return out;
}

function parseWorker(field: string, json: string): PersistedWorker | undefined {
  const d = parseJson(json);
  if (!isRecord(d) || typeof d.name !== 'string' || workerField(d.name) !== field) return undefined;
  if (!optionalInt(d.lbfactor, 100, 10_000) || !optionalInt(d.lbset, 0, 99)) return undefined;
  if (!optional(d.route, 'string') || !optional(d.redirect, 'string')) return undefined;
  if (d.status !== undefined && (typeof d.status !== 'string' || !/^[DSIHRN]*$/.test(d.status))) return undefined;
  if (d.health !== undefined && !isPersistedHealthCheck(d.health)) return undefined;
  const w: PersistedWorker = { name: d.name };
  if (d.lbfactor !== undefined) w.lbfactor = d.lbfactor as number;
  if (d.lbset !== undefined) w.lbset = d.lbset as number;
  if (d.route !== undefined) w.route = d.route as string;
  if (d.redirect !== undefined) w.redirect = d.redirect as string;
  if (d.status !== undefined) w.status = d.status;
  if (d.health !== undefined) w.health = d.health;
  return w;
}

function parseAdded(field: string, json: string): string | undefined {
  const d = parseJson(json);
  if (!isRecord(d) || typeof d.url !== 'string' || addedField(d.url) !== field) return undefined;
  return d.url;
}

/**
 * Builds a (possibly partial) PersistedBalancer from admin records: settings if present, the
 * workers present, added URLs in the order they were added (by version, then instance). Records
 * that do not parse are reported through `bad` and left out: a damaged record never reaches a balancer.
 */
export function adminState(
  records: Iterable<[string, Rec]>,
  bad: (field: string) => void,
): PersistedBalancer | undefined {
  let version = 0;
  let any = false;
  const state: PersistedBalancer = { version: 0, workers: [], added: [] };
  const added: { url: string; rec: Rec }[] = [];
  for (const [field, rec] of records) {
    let ok = true;
    if (field === SETTINGS_FIELD) {
      const s = parseSettings(rec.json);
      if (s) Object.assign(state, s);
      else ok = false;
    } else if (field.startsWith('w:')) {
      const w = parseWorker(field, rec.json);
      if (w) state.workers.push(w);
      else ok = false;
    } else if (field.startsWith('a:')) {
      const url = parseAdded(field, rec.json);
      if (url !== undefined) added.push({ url, rec });
      else ok = false;
    } else ok = false;
    if (!ok) {
      bad(field);
      continue;
    }
    any = true;
    version = Math.max(version, rec.v);
  }
  if (!any) return undefined;
  added.sort((a, b) => (wins(a.rec, b.rec) ? 1 : -1));
  state.added = added.map((a) => a.url);
  state.version = version;
  return state;
}

// ---------------------------------------------------------------- worker health state

export function runtimeJson(s: SharedWorkerState): string {
  return JSON.stringify({
    e: s.inError,
    t: s.errorTime,
    x: s.ejectionMs ?? null,
    c: s.hcFailed,
    k: s.check ? [s.check.ok, s.check.reason, s.check.time, s.check.instance] : null,
  });
}

export function parseRuntime(json: string): SharedWorkerState | undefined {
  const d = parseJson(json);
  if (!isRecord(d) || typeof d.e !== 'boolean' || typeof d.c !== 'boolean') return undefined;
  if (typeof d.t !== 'number' || !Number.isFinite(d.t)) return undefined;
  if (d.x !== null && (typeof d.x !== 'number' || !Number.isFinite(d.x) || d.x < 0)) return undefined;
  const s: SharedWorkerState = { inError: d.e, errorTime: d.t, hcFailed: d.c };
  if (typeof d.x === 'number') s.ejectionMs = d.x;
  if (Array.isArray(d.k)) {
    const [ok, reason, time, instance] = d.k as unknown[];
    if (
      typeof ok === 'boolean' &&
      typeof reason === 'string' &&
      typeof time === 'number' &&
      typeof instance === 'string'
    ) {
      s.check = { ok, reason, time, instance };
    }
  }
  return s;
}

export function runtimeWorker(field: string): string | undefined {
  return decodeName(field);
}

// ---------------------------------------------------------------- counters

export function parseCounters(json: string): InstanceCounters | undefined {
  const d = parseJson(json);
  if (!isRecord(d) || typeof d.instance !== 'string' || typeof d.time !== 'number' || !isRecord(d.workers)) {
    return undefined;
  }
  // No prototype: a worker named "__proto__" in a damaged entry stays a plain key.
  const workers = Object.create(null) as InstanceCounters['workers'];
  for (const [name, c] of Object.entries(d.workers)) {
    if (!Array.isArray(c) || c.length !== 4 || !c.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      return undefined;
    }
    const [elected, transferred, read, busy] = c as number[];
    workers[name] = { elected: elected!, transferred: transferred!, read: read!, busy: busy! };
  }
  return { instance: d.instance, time: d.time, workers };
}

export function countersJson(c: InstanceCounters): string {
  const workers: Record<string, number[]> = {};
  for (const [name, w] of Object.entries(c.workers)) workers[name] = [w.elected, w.transferred, w.read, w.busy];
  return JSON.stringify({ instance: c.instance, time: c.time, workers });
}
