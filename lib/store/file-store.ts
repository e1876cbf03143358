import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isPersistedHealthCheck } from '../model/store.js';
import type { PersistedBalancer, StateStore } from '../model/store.js';
import type { CodeOf } from '../errors.js';

const FORMAT = 'express-proxy-balancer/state@1';

export type StoreErrorCode = CodeOf<'StoreError'>;

/** A state file that cannot be read or written; `file` is its path. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly file: string;
  constructor(code: StoreErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'StoreError';
    this.code = code;
    this.file = file;
  }
}

interface FileShape {
  format: string;
  balancers: Record<string, PersistedBalancer>;
}

/**
 * Keeps admin state in one JSON file (Apache's BalancerPersist). Writes are atomic: a temporary
 * file in the same directory, flushed, then renamed over the old one, so a crash leaves the old
 * or the new state, never half of one. A file that does not parse is a StoreError at load; the
 * store then refuses to save too, so the damaged file is never overwritten (no silent loss).
 */
export class FileStore implements StateStore {
  readonly file: string;
  #state: Promise<Map<string, PersistedBalancer>> | undefined;
  #writes: Promise<void> = Promise.resolve();

  constructor(file: string) {
    if (typeof file !== 'string' || file === '') throw new TypeError('FileStore: file must be a path');
    this.file = path.resolve(file);
  }

  async load(balancer: string): Promise<PersistedBalancer | undefined> {
    const state = await this.#read();
    const s = state.get(balancer);
    return s ? structuredClone(s) : undefined;
  }

  async save(balancer: string, state: PersistedBalancer): Promise<void> {
    const all = await this.#read();
    all.set(balancer, structuredClone(state));
    const text = JSON.stringify({ format: FORMAT, balancers: Object.fromEntries(all) }, null, 2) + '\n';
    // One write at a time, in call order: the last save always wins on disk.
    const write = this.#writes.then(() => this.#writeAtomic(text));
    this.#writes = write.catch(() => undefined);
    return write;
  }

  #read(): Promise<Map<string, PersistedBalancer>> {
    this.#state ??= this.#readFile();
    return this.#state;
  }

  async #readFile(): Promise<Map<string, PersistedBalancer>> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new StoreError('ERR_STORE_IO', this.file, `cannot be read: ${(err as Error).message}`, { cause: err });
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new StoreError(
        'ERR_STORE_CORRUPT',
        this.file,
        `is not valid JSON (${(err as Error).message}); fix or remove it`,
        {
          cause: err,
        },
      );
    }
    return parseFile(this.file, data);
  }

  async #writeAtomic(text: string): Promise<void> {
    const dir = path.dirname(this.file);
    const tmp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await fs.mkdir(dir, { recursive: true });
      const fh = await fs.open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, this.file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw new StoreError('ERR_STORE_IO', this.file, `cannot be written: ${(err as Error).message}`, { cause: err });
    }
  }
}

function corrupt(file: string, what: string): StoreError {
  return new StoreError('ERR_STORE_CORRUPT', file, `is not a balancer state file: ${what}; fix or remove it`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseFile(file: string, data: unknown): Map<string, PersistedBalancer> {
  if (!isRecord(data) || data.format !== FORMAT) throw corrupt(file, `"format" is not "${FORMAT}"`);
  const { balancers } = data as unknown as FileShape;
  if (!isRecord(balancers)) throw corrupt(file, '"balancers" is not an object');
  const out = new Map<string, PersistedBalancer>();
  for (const [name, b] of Object.entries(balancers)) {
    const problem = checkBalancer(b);
    if (problem) throw corrupt(file, `balancers.${name}: ${problem}`);
    out.set(name, b);
  }
  return out;
}

/** Field → type, or [min, max] for integers: values the balancer could not run with are corrupt too. */
type Rule = 'string' | 'boolean' | [number, number];
const BALANCER_RULES: Record<string, Rule> = {
  lbmethod: 'string',
  timeoutMs: [0, 7_200_000],
  maxattempts: [0, 99],
  nofailover: 'boolean',
};
const WORKER_RULES: Record<string, Rule> = {
  lbfactor: [100, 10_000],
  lbset: [0, 99],
  route: 'string',
  redirect: 'string',
  status: 'string',
};

function breaks(v: unknown, rule: Rule): boolean {
  if (v === undefined) return false;
  if (typeof rule === 'string') return typeof v !== rule;
  return typeof v !== 'number' || !Number.isInteger(v) || v < rule[0] || v > rule[1];
}

function describeRule(rule: Rule): string {
  return typeof rule === 'string' ? `a ${rule}` : `an integer in ${rule[0]}..${rule[1]}`;
}

function checkBalancer(b: unknown): string | undefined {
  if (!isRecord(b)) return 'not an object';
  if (typeof b.version !== 'number' || !Number.isInteger(b.version)) return 'version is not an integer';
  for (const [k, rule] of Object.entries(BALANCER_RULES)) {
    if (breaks(b[k], rule)) return `${k} is not ${describeRule(rule)}`;
  }
  if (b.stickysession !== undefined && b.stickysession !== null && typeof b.stickysession !== 'string') {
    return 'stickysession is not a string or null';
  }
  if (!Array.isArray(b.added) || !b.added.every((u) => typeof u === 'string')) return 'added is not a list of URLs';
  if (!Array.isArray(b.workers)) return 'workers is not a list';
  for (const [i, w] of (b.workers as unknown[]).entries()) {
    const problem = checkWorker(w);
    if (problem) return `workers[${i}]: ${problem}`;
  }
  return undefined;
}

function checkWorker(w: unknown): string | undefined {
  if (!isRecord(w) || typeof w.name !== 'string') return 'has no name';
  for (const [k, rule] of Object.entries(WORKER_RULES)) {
    if (breaks(w[k], rule)) return `${k} is not ${describeRule(rule)}`;
  }
  if (w.health !== undefined && !isPersistedHealthCheck(w.health)) return 'health is not a health check';
  return undefined;
}
