import { EventEmitter } from 'node:events';
import { log } from '../debug.js';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { InstanceCounters, PersistedBalancer, SharedStateStore, SharedWorkerState } from '../model/store.js';
import { INSTANCE_RE, PREFIX_RE, keysFor, runtimeField, type Keys } from './redis/keys.js';
import {
  adminFields,
  adminState,
  countersJson,
  formatRec,
  parseCounters,
  parseRec,
  parseRuntime,
  runtimeJson,
  runtimeWorker,
  wins,
  type Rec,
} from './redis/records.js';
import { MERGE_LUA } from './redis/scripts.js';
import {
  describeTarget,
  openConnection,
  parseTarget,
  remoteOf,
  type Conn,
  type IoredisModule,
  type Target,
} from './redis/connection.js';
import type { CodeOf } from '../errors.js';

export type RedisStoreErrorCode = CodeOf<'RedisStoreError'>;

/** ioredis is not installed, Redis cannot be reached when it must be, or the options are wrong. */
export class RedisStoreError extends Error {
  readonly code: RedisStoreErrorCode;
  /** The state was kept and will be written when Redis answers (a save that outlasted saveWaitMs). */
  readonly queued: boolean;
  constructor(code: RedisStoreErrorCode, message: string, options?: { cause?: unknown; queued?: boolean }) {
    super(message, options);
    this.name = 'RedisStoreError';
    this.code = code;
    this.queued = options?.queued ?? false;
  }
}

export interface RedisStoreOptions {
  /**
   * Where Redis is (default redis://127.0.0.1:6379): a redis:// or rediss:// URL; ioredis connection
   * options (host, port, username, password, tls, db…); Sentinel options `{ sentinels: [{ host, port }], name }`;
   * a Redis Cluster `{ cluster: ['host:port', …], …ClusterOptions }`; or an ioredis `Redis` or `Cluster`
   * object, whose options are copied (the store opens its own connections and leaves that object alone).
   */
  redis?: string | ({ host?: string; port?: number } & Record<string, unknown>) | RedisClusterConfig | RedisClient;
  /** Namespace of one fleet: every key starts with it. Letters, digits and . _ : - (default "epb:"). */
  prefix?: string;
  /** Refuse to start (lb.ready rejects) when Redis cannot be reached at start-up. Default false: start from the configuration, with a warning. */
  strict?: boolean;
  /** This process among the instances (letters, digits, . _ -). Default: host name, pid and a random part. */
  instanceId?: string;
  /** Full resync period, which heals missed messages. Default 5000 ms. */
  resyncMs?: number;
  /** How long start-up waits for Redis before going on without it. Default 1000 ms. */
  connectTimeoutMs?: number;
  /** A command taking longer counts as an outage. Default 1000 ms. */
  commandTimeoutMs?: number;
  /**
   * How long a manager edit waits for Redis to store it while Redis is unreachable (a Sentinel or
   * Cluster failover) before it is answered with an error. Default 5000 ms.
   */
  saveWaitMs?: number;
  /**
   * Least time between two writes of this instance's counters (the balancer offers them every second).
   * Unchanged counters are written only every staleMs / 3, to show the instance is alive. Default 1000 ms.
   */
  countersMs?: number;
  /** Counters of an instance not heard of for this long are left out of the sums. Default 15000 ms. */
  staleMs?: number;
  /** Outage and recovery messages, one per transition. Default console.warn. */
  warn?: (message: string) => void;
}

/** `redis` names a cluster by its nodes: `{ cluster: ['10.0.0.5:7000', …], …ClusterOptions }`. */
export interface RedisClusterConfig extends Record<string, unknown> {
  cluster: (string | { host?: string; port?: number })[];
}

/** An ioredis `Redis` or `Cluster` object (read for its options only). */
export interface RedisClient {
  readonly isCluster: boolean;
}

type Kind = 'a' | 'r';

/** How long after the manager asked for the sums the other instances' counters keep being read. */
const COUNTERS_WANTED_MS = 60_000;

interface BalancerCache {
  readonly name: string;
  /** Latest known record of each field, whoever wrote it; local writes go here first. */
  readonly records: Record<Kind, Map<string, Rec>>;
  /** Fields written here and not yet confirmed by Redis. */
  readonly dirty: Record<Kind, Set<string>>;
  /** Admin field JSON this process started from (seed): saves write only what differs from it. */
  readonly base: Map<string, string>;
  readonly adminWatchers: Set<(s: PersistedBalancer) => void>;
  readonly runtimeWatchers: Set<(worker: string, s: SharedWorkerState) => void>;
  readonly counters: Map<string, InstanceCounters>;
  countersBusy: boolean;
  /** The worker counters last written and when (to skip unchanged writes). */
  countersSent: { json: string; at: number };
}

interface MergeClient {
  epbMerge(key: string, ...args: string[]): Promise<string[]>;
}

interface Message {
  i: string;
  b: string;
  k: Kind;
  r: string[];
}

async function loadIoredis(): Promise<IoredisModule> {
  let mod: unknown;
  try {
    mod = await import('ioredis');
  } catch (err) {
    throw new RedisStoreError(
      'ERR_REDIS_MISSING',
      'RedisStore needs the optional peer dependency "ioredis" (^5): npm install ioredis',
      { cause: err },
    );
  }
  const m = mod as Partial<IoredisModule> & { default?: Partial<IoredisModule> };
  const Redis = m.Redis ?? m.default?.Redis;
  const Cluster = m.Cluster ?? m.default?.Cluster;
  if (typeof Redis !== 'function' || typeof Cluster !== 'function')
    throw new RedisStoreError('ERR_REDIS_MISSING', 'the "ioredis" module exports no Redis and Cluster classes');
  return { Redis, Cluster };
}

function defaultInstanceId(): string {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 32) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new RedisStoreError('ERR_REDIS_OPTIONS', `RedisStore: ${name} must be a positive number of milliseconds`);
  }
  return v;
}

/**
 * Balancer state on Redis, shared by every process of a fleet (docs/scale-out.md). Each admin
 * setting, worker, added worker and worker health state is a versioned record written atomically
 * by a Lua script that keeps the winner and publishes it; other instances apply what they receive
 * within milliseconds and resync everything periodically. Nothing here is awaited on the request
 * path: writes are queued and sent when Redis can take them, so an outage only delays sharing.
 */
export class RedisStore extends EventEmitter<{ up: []; down: [Error] }> implements SharedStateStore {
  readonly instanceId: string;
  readonly prefix: string;
  readonly strict: boolean;
  readonly #keys: Keys;
  readonly #target: Target;
  /** The server last connected to (for Sentinel, the master it named). */
  #master: string | undefined;
  readonly #saveWaitMs: number;
  readonly #resyncMs: number;
  readonly #connectTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  readonly #staleMs: number;
  readonly #countersMs: number;
  readonly #warn: (message: string) => void;
  readonly #cache = new Map<string, BalancerCache>();
  /** Lamport clock: above every version seen, so a new write outranks what this process knows. */
  #version = 0;
  #client: Conn | undefined;
  #sub: Conn | undefined;
  #starting: Promise<void> | undefined;
  #up = false;
  #subscribed = false;
  #everUp = false;
  #closed = false;
  #lastError: Error | undefined;
  #tick: NodeJS.Timeout | undefined;
  #resyncing: Promise<void> | undefined;
  #resyncAgain = false;
  #flushChain: Promise<void> = Promise.resolve();
  #nextFlush: Promise<void> | undefined;
  readonly #badLogged = new Set<string>();
  /** When the manager last asked for the per-instance counters (they are read from Redis only then). */
  #countersWantedAt = -Infinity;

  constructor(options: RedisStoreOptions = {}) {
    super();
    this.prefix = options.prefix ?? 'epb:';
    if (typeof this.prefix !== 'string' || !PREFIX_RE.test(this.prefix)) {
      throw new RedisStoreError('ERR_REDIS_OPTIONS', 'RedisStore: prefix must be 1-64 of A-Z a-z 0-9 . _ : -');
    }
    this.instanceId = options.instanceId ?? defaultInstanceId();
    if (typeof this.instanceId !== 'string' || !INSTANCE_RE.test(this.instanceId)) {
      throw new RedisStoreError('ERR_REDIS_OPTIONS', 'RedisStore: instanceId must be 1-64 of A-Z a-z 0-9 . _ -');
    }
    this.strict = options.strict ?? false;
    this.#keys = keysFor(this.prefix);
    this.#target = parseTarget(options.redis, (m) => new RedisStoreError('ERR_REDIS_OPTIONS', m));
    this.#resyncMs = positive('resyncMs', options.resyncMs, 5000);
    this.#connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 1000);
    this.#commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, 1000);
    this.#staleMs = positive('staleMs', options.staleMs, 15_000);
    this.#saveWaitMs = positive('saveWaitMs', options.saveWaitMs, 5000);
    this.#countersMs = positive('countersMs', options.countersMs, 1000);
    this.#warn = options.warn ?? ((m) => console.warn(`express-proxy-balancer: ${m}`));
  }

  /** True while Redis answers (both connections up and the last command succeeded). */
  get connected(): boolean {
    return this.#up;
  }

  /** Where Redis is, without credentials (for messages and the manager): the server, Sentinel group and master, or cluster. */
  get target(): string {
    return describeTarget(this.#target, this.#master);
  }

  // ---------------------------------------------------------------- StateStore

  async load(balancer: string): Promise<PersistedBalancer | undefined> {
    const c = this.#cacheOf(balancer);
    if (!(await this.#waitUp())) {
      const reason = this.#lastError?.message ?? 'no answer';
      if (this.strict) {
        throw new RedisStoreError(
          'ERR_REDIS_UNAVAILABLE',
          `${this.target} is unreachable at start-up (strict): ${reason}`,
          {
            cause: this.#lastError,
          },
        );
      }
      this.#warnOnce(
        `${this.target} is unreachable at start-up (${reason}): balancer://${balancer} starts from its configuration; stored state applies when Redis is reachable`,
      );
      return undefined;
    }
    await this.#resync(c).catch((err: unknown) => {
      this.#down(err);
      if (this.strict) throw err;
    });
    return adminState(c.records.a, (f) => this.#bad(c, 'a', f));
  }

  seed(balancer: string, state: PersistedBalancer): void {
    const c = this.#cacheOf(balancer);
    for (const [f, json] of adminFields(state)) c.base.set(f, json);
  }

  /**
   * Writes the fields that differ from what this process knows, each as a new record. Resolves
   * once Redis has them, retrying through an outage (a failover) for up to saveWaitMs; then rejects
   * (the change stays applied here and queued, and is written when Redis returns, unless a newer
   * one wins there). Retrying is safe: a record Redis already has is neither rewritten nor republished.
   */
  async save(balancer: string, state: PersistedBalancer): Promise<void> {
    const c = this.#cacheOf(balancer);
    const changed: [string, string][] = [];
    for (const [f, json] of adminFields(state)) {
      if ((c.records.a.get(f)?.json ?? c.base.get(f)) !== json) changed.push([f, json]);
    }
    if (changed.length === 0) return;
    const v = this.#nextVersion(state.version);
    const mine: Rec[] = [];
    for (const [f, json] of changed) {
      const rec = formatRec(v, this.instanceId, json);
      mine.push(rec);
      c.records.a.set(f, rec);
      c.base.set(f, json);
      c.dirty.a.add(f);
    }
    void this.#start().catch(() => undefined);
    const pending = (): boolean => changed.some(([f]) => c.dirty.a.has(f) && mine.includes(c.records.a.get(f)!));
    await this.#flush();
    const deadline = Date.now() + this.#saveWaitMs;
    while (pending() && !this.#closed && Date.now() < deadline) {
      await this.#upOrPause(Math.min(100, deadline - Date.now()));
      await this.#flush();
    }
    if (pending()) {
      const reason = this.#lastError ? ` (${this.#lastError.message})` : '';
      throw new RedisStoreError(
        'ERR_REDIS_UNAVAILABLE',
        `${this.target} did not store the change within ${this.#saveWaitMs} ms${reason}: it is applied on this instance and queued, and will be stored and shared when Redis answers unless a newer change of the same setting wins`,
        { cause: this.#lastError, queued: true },
      );
    }
  }

  /** Resolves when the store comes up or after `ms`, whichever is first. */
  #upOrPause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.off('up', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(ms, 0));
      this.on('up', done);
    });
  }

  watch(balancer: string, onChange: (state: PersistedBalancer) => void): () => void {
    const c = this.#cacheOf(balancer);
    c.adminWatchers.add(onChange);
    void this.#start().catch(() => undefined);
    this.#kick();
    return () => c.adminWatchers.delete(onChange);
  }

  /** Stops timers, writes what is queued (if Redis answers), and closes both connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick) clearTimeout(this.#tick);
    await this.#starting?.catch(() => undefined);
    const client = this.#client;
    if (client?.status === 'ready') {
      await this.#flush();
      const key = (b: string): string => this.#keys.counters(b);
      await Promise.all([...this.#cache.keys()].map((b) => client.hdel(key(b), this.instanceId).catch(() => 0)));
    }
    for (const conn of [this.#sub, client]) {
      if (!conn) continue;
      if (conn.status === 'ready') await conn.quit().catch(() => conn.disconnect());
      else conn.disconnect();
    }
  }

  // ---------------------------------------------------------------- shared health state and counters

  saveWorkerState(balancer: string, worker: string, state: SharedWorkerState): void {
    const c = this.#cacheOf(balancer);
    const f = runtimeField(worker);
    const json = runtimeJson(state);
    if (c.records.r.get(f)?.json === json) return;
    c.records.r.set(f, formatRec(this.#nextVersion(0), this.instanceId, json));
    c.dirty.r.add(f);
    if (this.#closed) return;
    void this.#start().catch(() => undefined);
    void this.#flush();
  }

  async loadWorkerStates(balancer: string): Promise<Map<string, SharedWorkerState>> {
    const c = this.#cacheOf(balancer);
    // No waiting here: load() already gave Redis its chance at start-up; later states arrive by watch.
    if (this.#up) await this.#resync(c).catch((err: unknown) => this.#down(err));
    const out = new Map<string, SharedWorkerState>();
    for (const [f, rec] of c.records.r) {
      const worker = runtimeWorker(f);
      const s = parseRuntime(rec.json);
      if (worker !== undefined && s) out.set(worker, s);
    }
    return out;
  }

  watchWorkerStates(balancer: string, onChange: (worker: string, state: SharedWorkerState) => void): () => void {
    const c = this.#cacheOf(balancer);
    c.runtimeWatchers.add(onChange);
    void this.#start().catch(() => undefined);
    this.#kick();
    return () => c.runtimeWatchers.delete(onChange);
  }

  publishCounters(balancer: string, counters: InstanceCounters): void {
    const c = this.#cacheOf(balancer);
    c.counters.set(this.instanceId, counters);
    const client = this.#client;
    if (this.#closed || client?.status !== 'ready' || c.countersBusy) return;
    const now = Date.now();
    const json = countersJson(counters);
    const rows = json.slice(json.indexOf(',"workers":'));
    const since = now - c.countersSent.at;
    const wanted = now - this.#countersWantedAt <= COUNTERS_WANTED_MS;
    // A little slack: the balancer's timer and this one drift by a few milliseconds.
    if (since < this.#countersMs * 0.9) return;
    if (!wanted && rows === c.countersSent.json && since < this.#staleMs / 3) return;
    c.countersSent = { json: rows, at: now };
    c.countersBusy = true;
    const key = this.#keys.counters(balancer);
    if (!wanted) {
      // Nobody looked at the sums lately: write this instance's row only. Reading every row on every
      // instance each period would cost Redis instances² × workers bytes (docs/scale-out.md).
      client
        .hset(key, this.instanceId, json)
        .catch((err: unknown) => this.#down(err))
        .finally(() => (c.countersBusy = false));
      return;
    }
    client
      .multi()
      .hset(key, this.instanceId, json)
      .hgetall(key)
      .exec()
      .then((replies) => {
        const all = replies?.[1]?.[1] as Record<string, string> | undefined;
        if (!all) return;
        const gone: string[] = [];
        for (const [instance, json] of Object.entries(all)) {
          if (instance === this.instanceId) continue;
          const parsed = parseCounters(json);
          if (parsed?.instance !== instance) continue;
          // An instance silent for long is gone: its entry is dropped for everyone.
          if (now - parsed.time > 4 * this.#staleMs) gone.push(instance);
          c.counters.set(instance, parsed);
        }
        for (const instance of c.counters.keys()) {
          if (instance !== this.instanceId && !Object.hasOwn(all, instance)) c.counters.delete(instance);
        }
        if (gone.length > 0) void client.hdel(key, ...gone).catch(() => 0);
      })
      .catch((err: unknown) => this.#down(err))
      .finally(() => (c.countersBusy = false));
  }

  counters(balancer: string): InstanceCounters[] {
    this.#countersWantedAt = Date.now();
    const c = this.#cache.get(balancer);
    if (!c) return [];
    const now = Date.now();
    return [...c.counters.values()]
      .filter((x) => x.instance === this.instanceId || now - x.time <= this.#staleMs)
      .sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
  }

  // ---------------------------------------------------------------- connection

  #cacheOf(balancer: string): BalancerCache {
    let c = this.#cache.get(balancer);
    if (!c) {
      c = {
        name: balancer,
        records: { a: new Map(), r: new Map() },
        dirty: { a: new Set(), r: new Set() },
        base: new Map(),
        adminWatchers: new Set(),
        runtimeWatchers: new Set(),
        counters: new Map(),
        countersBusy: false,
        countersSent: { json: '', at: -Infinity },
      };
      this.#cache.set(balancer, c);
    }
    return c;
  }

  #nextVersion(atLeast: number): number {
    this.#version = Math.max(this.#version + 1, atLeast);
    return this.#version;
  }

  /** Starts the connections once (ioredis is imported here, the first time it is needed). */
  #start(): Promise<void> {
    this.#starting ??= this.#connect();
    return this.#starting;
  }

  async #connect(): Promise<void> {
    const mod = await loadIoredis();
    if (this.#closed) return;
    const timeouts = { connectTimeoutMs: this.#connectTimeoutMs, commandTimeoutMs: this.#commandTimeoutMs };
    const client = openConnection(mod, this.#target, timeouts);
    const sub = openConnection(mod, this.#target, timeouts);
    client.defineCommand('epbMerge', { numberOfKeys: 1, lua: MERGE_LUA });
    this.#client = client;
    this.#sub = sub;
    for (const conn of [client, sub]) {
      conn.on('error', (err: Error) => (this.#lastError = err));
      conn.on('close', () => this.#down(this.#lastError ?? new Error('connection closed')));
      conn.on('ready', () => this.#kick());
    }
    client.on('ready', () => (this.#master = remoteOf(client) ?? this.#master));
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.#keys.channel) this.#onMessage(message);
    });
    // The first subscription (ioredis renews it by itself after a reconnect).
    sub.on('ready', () => {
      if (this.#subscribed) return;
      sub.subscribe(this.#keys.channel).then(
        () => {
          this.#subscribed = true;
          this.#kick();
        },
        (err: unknown) => void (this.#lastError = err as Error),
      );
    });
    this.#scheduleTick();
    await Promise.all([client.connect().catch(() => undefined), sub.connect().catch(() => undefined)]);
  }

  /** Resolves true once Redis answers, false after connectTimeoutMs; rejects only if ioredis is missing. */
  async #waitUp(): Promise<boolean> {
    await this.#start();
    if (this.#up) return true;
    this.#kick();
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.off('up', onUp);
        resolve(ok);
      };
      const onUp = (): void => done(true);
      const timer = setTimeout(() => done(this.#up), this.#connectTimeoutMs);
      this.on('up', onUp);
    });
  }

  #scheduleTick(): void {
    if (this.#closed) return;
    this.#tick = setTimeout(
      () => {
        this.#kick();
        this.#scheduleTick();
      },
      // ±20 % so a fleet that reconnected together does not resync in lockstep ever after.
      this.#up ? this.#resyncMs * (0.8 + 0.4 * Math.random()) : Math.min(this.#resyncMs, 250),
    );
    this.#tick.unref();
  }

  #warnOnce(message: string): void {
    log.store(message);
    try {
      this.#warn(message);
    } catch {
      // A throwing logger must not break the store.
    }
  }

  #down(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.#lastError = e;
    if (!this.#up || this.#closed) return;
    this.#up = false;
    this.#warnOnce(
      `${this.target} is unavailable (${e.message}): serving from the last known state; changes are kept and shared when it returns`,
    );
    this.emit('down', e);
  }

  #markUp(): void {
    if (this.#up || this.#closed) return;
    if (!this.#subscribed || this.#sub?.status !== 'ready' || this.#client?.status !== 'ready') return;
    this.#up = true;
    if (this.#everUp) this.#warnOnce(`${this.target} is reachable again: state resynchronized`);
    else log.store('%s connected as instance %s (prefix %s)', this.target, this.instanceId, this.prefix);
    this.#everUp = true;
    this.emit('up');
  }

  /** A resync of every balancer soon (after a reconnect, on the timer, for a new watcher). */
  #kick(): void {
    if (this.#closed || !this.#client) return;
    if (this.#resyncing) {
      this.#resyncAgain = true;
      return;
    }
    this.#resyncing = this.#resyncAll().finally(() => {
      this.#resyncing = undefined;
      if (this.#resyncAgain) {
        this.#resyncAgain = false;
        this.#kick();
      }
    });
  }

  async #resyncAll(): Promise<void> {
    if (this.#client?.status !== 'ready') return;
    try {
      for (const c of this.#cache.values()) await this.#resync(c);
      this.#markUp();
    } catch (err) {
      this.#down(err);
    }
  }

  /**
   * Sends every record this process knows (Redis keeps the winners, so a restarted empty Redis is
   * re-seeded) and takes back the whole hash, applying what is newer than what is known here.
   */
  async #resync(c: BalancerCache): Promise<void> {
    for (const kind of ['a', 'r'] as const) {
      const sent = [...c.records[kind]];
      const reply = await this.#merge(c, kind, sent, true);
      this.#confirm(c, kind, sent);
      this.#consider(c, kind, pairs(reply));
    }
  }

  #merge(c: BalancerCache, kind: Kind, recs: [string, Rec][], all: boolean): Promise<string[]> {
    const client = this.#client;
    if (client?.status !== 'ready') return Promise.reject(this.#lastError ?? new Error('not connected'));
    const key = kind === 'a' ? this.#keys.admin(c.name) : this.#keys.runtime(c.name);
    const args = [this.#keys.channel, this.instanceId, c.name, kind, all ? '1' : '0'];
    for (const [f, rec] of recs) args.push(f, rec.raw);
    return (client as unknown as MergeClient).epbMerge(key, ...args);
  }

  /** Clears the dirty mark of records Redis now has (unless rewritten here since). */
  #confirm(c: BalancerCache, kind: Kind, sent: [string, Rec][]): void {
    for (const [f, rec] of sent) if (c.records[kind].get(f) === rec) c.dirty[kind].delete(f);
  }

  /** Writes dirty records soon; several calls in one tick make one round trip per hash. */
  #flush(): Promise<void> {
    if (this.#nextFlush) return this.#nextFlush;
    const p: Promise<void> = this.#flushChain.then(() => {
      this.#nextFlush = undefined;
      return this.#doFlush();
    });
    this.#nextFlush = p;
    this.#flushChain = p;
    return p;
  }

  async #doFlush(): Promise<void> {
    if (this.#client?.status !== 'ready') return;
    try {
      for (const c of this.#cache.values()) {
        for (const kind of ['a', 'r'] as const) {
          if (c.dirty[kind].size === 0) continue;
          const sent = [...c.dirty[kind]].map((f): [string, Rec] => [f, c.records[kind].get(f)!]);
          const lost = await this.#merge(c, kind, sent, false);
          this.#confirm(c, kind, sent);
          // A record that lost was outrun by a newer one written elsewhere: apply that one here.
          this.#consider(c, kind, pairs(lost));
        }
      }
      this.#markUp();
    } catch (err) {
      this.#down(err);
    }
  }

  #onMessage(message: string): void {
    let m: Partial<Message> | null;
    try {
      m = JSON.parse(message) as Partial<Message> | null;
    } catch {
      return;
    }
    // Echo suppression: this process already applied what it published itself.
    if (typeof m !== 'object' || m === null || m.i === this.instanceId) return;
    if (typeof m.b !== 'string' || (m.k !== 'a' && m.k !== 'r') || !Array.isArray(m.r)) return;
    const c = this.#cache.get(m.b);
    if (!c) return;
    this.#consider(c, m.k, pairs(m.r.filter((x) => typeof x === 'string')));
  }

  /** Keeps the records that win over the known ones and hands them to the watchers. */
  #consider(c: BalancerCache, kind: Kind, incoming: [string, string][]): void {
    const fresh: [string, Rec][] = [];
    for (const [f, raw] of incoming) {
      const rec = parseRec(raw);
      if (!rec) {
        this.#bad(c, kind, f);
        continue;
      }
      this.#version = Math.max(this.#version, rec.v);
      const known = c.records[kind].get(f);
      if (known?.raw === raw || !wins(rec, known)) continue;
      c.records[kind].set(f, rec);
      c.dirty[kind].delete(f);
      fresh.push([f, rec]);
    }
    if (fresh.length === 0) return;
    if (kind === 'a') {
      const state = adminState(fresh, (f) => this.#bad(c, kind, f));
      if (!state) return;
      for (const [f, rec] of fresh) c.base.set(f, rec.json);
      for (const w of c.adminWatchers) call(() => w(structuredClone(state)));
      return;
    }
    for (const [f, rec] of fresh) {
      const worker = runtimeWorker(f);
      const s = parseRuntime(rec.json);
      if (worker === undefined || !s) {
        this.#bad(c, kind, f);
        continue;
      }
      for (const w of c.runtimeWatchers) call(() => w(worker, s));
    }
  }

  #bad(c: BalancerCache, kind: Kind, field: string): void {
    const id = `${c.name}\n${kind}\n${field}`;
    if (this.#badLogged.has(id)) return;
    this.#badLogged.add(id);
    this.#warnOnce(
      `balancer://${c.name}: ignored a damaged ${kind === 'a' ? 'admin' : 'health'} record in Redis (field ${field})`,
    );
  }
}

function call(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.store('a watcher threw: %s', (err as Error).stack ?? String(err));
  }
}

/** [f1, v1, f2, v2…] → [[f1, v1], [f2, v2]…]; tolerates an odd tail and non-strings. */
function pairs(flat: unknown): [string, string][] {
  const out: [string, string][] = [];
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const f: unknown = flat[i];
    const v: unknown = flat[i + 1];
    if (typeof f === 'string' && typeof v === 'string') out.push([f, v]);
  }
  return out;
}
