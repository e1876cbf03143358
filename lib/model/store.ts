/**
 * Admin state that outlives a request: what the manager changed and which workers it added.
 * The request path never calls a store; balancers read it at start-up and write it after an edit.
 * Implementations: memory (default), JSON file (FileStore) and Redis (RedisStore, shared by several processes).
 */
export interface PersistedWorker {
  name: string;
  lbfactor?: number;
  lbset?: number;
  route?: string;
  redirect?: string;
  /** Admin status letters (D S I H R N). */
  status?: string;
  /** The active check as the manager last set it (option names; hcinterval in ms). */
  health?: PersistedHealthCheck;
}

export interface PersistedHealthCheck {
  hcmethod?: string;
  hcinterval?: number | string;
  hcpasses?: number;
  hcfails?: number;
  hcuri?: string;
  hcexpect?: string;
}

export interface PersistedBalancer {
  /** Grows with every saved change; concurrent writers resolve by it. */
  version: number;
  lbmethod?: string;
  timeoutMs?: number;
  maxattempts?: number;
  nofailover?: boolean;
  stickysession?: string | null;
  workers: PersistedWorker[];
  /** URLs of workers added at run time, in the order they were added. */
  added: string[];
}

export interface StateStore {
  load(balancer: string): Promise<PersistedBalancer | undefined>;
  /**
   * Rejects when the state was not saved; an error with `queued: true` means the store kept it and
   * writes it once it can (the manager then answers 503 ERR_MANAGER_STORE_QUEUED, not a failure).
   */
  save(balancer: string, state: PersistedBalancer): Promise<void>;
  /**
   * Called with state written by another process; returns an unsubscribe function. The state may be
   * partial: only the workers (and added URLs) that changed, balancer settings only if they changed.
   */
  watch?(balancer: string, onChange: (state: PersistedBalancer) => void): () => void;
  close?(): Promise<void>;
}

/** A worker's health state as the instances sharing a store see it (E with its time, C, last check). */
export interface SharedWorkerState {
  /** E: in error since errorTime (clock ms of the instance that saw it). */
  inError: boolean;
  errorTime: number;
  /** Retry window of an outlier ejection; undefined: the worker's own retry applies. */
  ejectionMs?: number;
  /** C: failed its health checks. */
  hcFailed: boolean;
  /** The health check verdict that last changed C, and which instance saw it. */
  check?: { ok: boolean; reason: string; time: number; instance: string };
}

/** One instance's counters for one balancer's workers, as it last published them. */
export interface InstanceCounters {
  instance: string;
  /** Wall-clock ms of the publication. */
  time: number;
  workers: Record<string, { elected: number; transferred: number; read: number; busy: number }>;
}

/**
 * A store several processes share (RedisStore; docs/scale-out.md): besides admin state it carries
 * each worker's health state and each instance's counters. Writes never wait: they are queued and
 * written when the store can, so nothing on the request path depends on it.
 */
export interface SharedStateStore extends StateStore {
  /** This process among the instances. */
  readonly instanceId: string;
  /** False while the shared store does not answer (state is then served as last known). */
  readonly connected: boolean;
  /** Where the shared state lives, without credentials (shown by the manager). */
  readonly target?: string;
  watch(balancer: string, onChange: (state: PersistedBalancer) => void): () => void;
  /** The admin state this process started from (after restore): later saves write only what differs. */
  seed(balancer: string, state: PersistedBalancer): void;
  saveWorkerState(balancer: string, worker: string, state: SharedWorkerState): void;
  loadWorkerStates(balancer: string): Promise<Map<string, SharedWorkerState>>;
  /** Called with worker states written by other processes; returns an unsubscribe function. */
  watchWorkerStates(balancer: string, onChange: (worker: string, state: SharedWorkerState) => void): () => void;
  publishCounters(balancer: string, counters: InstanceCounters): void;
  /** The latest counters of every live instance, this one included (cached: never waits). */
  counters(balancer: string): InstanceCounters[];
}

export function isSharedStore(store: StateStore): store is SharedStateStore {
  const s = store as Partial<SharedStateStore>;
  return typeof s.instanceId === 'string' && typeof s.saveWorkerState === 'function' && typeof s.seed === 'function';
}

const HEALTH_CHECK_FIELDS: Record<keyof PersistedHealthCheck, readonly string[]> = {
  hcmethod: ['string'],
  hcinterval: ['number', 'string'],
  hcpasses: ['number'],
  hcfails: ['number'],
  hcuri: ['string'],
  hcexpect: ['string'],
};

/** The shape of a stored check (its values are validated like config when applied). */
export function isPersistedHealthCheck(v: unknown): v is PersistedHealthCheck {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.entries(v).every(
    ([k, x]) =>
      Object.hasOwn(HEALTH_CHECK_FIELDS, k) && HEALTH_CHECK_FIELDS[k as keyof PersistedHealthCheck].includes(typeof x),
  );
}
