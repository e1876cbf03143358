import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChangeSet } from '../balancer/admin.js';
import type { InstanceRow } from '../cluster/sync.js';
import type { CodeOf } from '../errors.js';

/** One worker as every rendering shows it (docs/manager.md has the JSON schema). */
export interface WorkerSnapshot {
  /** Worker URL as Apache names it: origin plus base path. */
  name: string;
  scheme: string;
  hostname: string;
  port: number;
  route: string;
  redirect: string;
  /** 1..100, two decimals. */
  loadfactor: number;
  lbset: number;
  /** Status letters in Apache's order, e.g. "DH"; "" when none is set. */
  status: string;
  /** Apache's manager words, e.g. "Init Dis", "Init Ok". */
  statusText: string;
  flags: Record<'I' | 'N' | 'D' | 'S' | 'E' | 'H' | 'R' | 'C', boolean>;
  usable: boolean;
  /** "ok", "error" (E: skipped until its retry time) or "hcfail" (C: failed health check). */
  health: 'ok' | 'error' | 'hcfail';
  /** Times chosen. */
  elected: number;
  /** Requests in flight. */
  busy: number;
  /** Scheduler credit (Apache "Load"). */
  lbstatus: number;
  /** Bytes sent to the worker. */
  transferred: number;
  /** Bytes read from the worker. */
  read: number;
  /** Times the worker was put in error state. */
  errors: number;
  /** When it last entered error state (ISO 8601), or null. */
  lastError: string | null;
  retries: number;
  retryMs: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  max: number;
  /** The active health check (Apache's HC columns), or null when the worker has none. */
  healthCheck: HealthCheckSnapshot | null;
  /** With a shared store: each instance's counters (elected, transferred and read above are their sums). */
  instances?: InstanceRow[];
  /** Added by DNS discovery: the name of its group. */
  discovered?: string;
}

/** A member group found in DNS, as the manager shows it. */
export interface DiscoverySnapshot {
  kind: 'dns' | 'srv';
  /** The DNS name resolved. */
  name: string;
  /** pending (no answer yet), ok, failing (DNS did not answer: the last workers are kept), empty. */
  state: 'pending' | 'ok' | 'failing' | 'empty';
  /** ISO 8601 times; null when none yet (or on an injected clock no Date can hold). */
  lastResolution: string | null;
  nextRefresh: string | null;
  /** The last lookup's error code while failing, else null. */
  lastError: string | null;
  /** Its workers' names; those whose address is gone are draining until they are removed. */
  workers: string[];
}

export interface HealthCheckSnapshot {
  /** hcmethod: TCP, OPTIONS, HEAD, GET, OPTIONS11, HEAD11 or GET11. */
  method: string;
  intervalMs: number;
  /** Checks in a row that clear C, and how many passed in a row so far. */
  passes: number;
  passCount: number;
  /** Checks in a row that set C, and how many failed in a row so far. */
  fails: number;
  failCount: number;
  /** Request target of HEAD/GET checks, base path included; null for the others. */
  uri: string | null;
  /** Statuses that pass ("200-399"); null for TCP. */
  expect: string | null;
  /** The last check: passed or not, why, when (ISO 8601); null before the first. */
  last: { ok: boolean; reason: string; time: string | null } | null;
}

export interface BalancerSnapshot {
  /** Lower-case name without the scheme. */
  name: string;
  /** "balancer://name". */
  id: string;
  /** The CSRF token changes must carry; omitted in read-only mode. */
  nonce?: string;
  mount: string;
  path: string;
  lbmethod: string;
  /** "COOKIE" or "COOKIE|URLPARAM", or null when not sticky. */
  stickysession: string | null;
  nofailover: boolean;
  scolonpathdelim: boolean;
  timeoutMs: number;
  /** Effective failover attempts; maxattemptsSet says whether it was set or defaulted. */
  maxattempts: number;
  maxattemptsSet: boolean;
  /** Scheduler settings: hash key ("ip", "header:x-user", …), bound in percent, p2c bias, EWMA decay, panic percent. */
  hashkey: string;
  hashbalancefactor: number;
  p2cbias: number;
  ewmadecayMs: number;
  panic: number;
  /** The lbsets in panic now. */
  panicking: number[];
  members: { max: number; used: number; free: number };
  workers: WorkerSnapshot[];
  /** Only when the balancer has members found in DNS. */
  discovery?: DiscoverySnapshot[];
}

export interface ManagerSnapshot {
  /** Schema version of this document. */
  version: 1;
  /** ISO 8601. */
  generatedAt: string;
  readOnly: boolean;
  /** False with the in-memory store: changes are lost on restart. */
  persisted: boolean;
  /** Registered scheduler names (valid lbmethod values). */
  schedulers: string[];
  balancers: BalancerSnapshot[];
  /** With a shared store (docs/scale-out.md): this instance, every live one, and whether the store answers. */
  cluster?: { instance: string; connected: boolean; instances: string[]; store?: string };
}

/** One applied change, emitted as the router's "audit" event and logged (debug: express-proxy-balancer:manager). */
export interface AuditEvent {
  /** ISO 8601. */
  time: string;
  /** Remote address of the request's socket. */
  address: string | undefined;
  /** What options.actor(req) returned, e.g. the logged-in user. */
  actor: string | undefined;
  balancer: string;
  worker: string | undefined;
  action: 'edit' | 'add-worker';
  /** The validated change set. */
  change: ChangeSet;
  /** The touched fields before and after, in API names. */
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/** The codes a ManagerError carries (their statuses and meanings: ERRORS in lib/errors.ts). */
export type ManagerErrorCode = CodeOf<'ManagerError'>;

/** A refused manager request; becomes `{ error: { code, message, field } }` with `status`. */
export class ManagerError extends Error {
  readonly code: ManagerErrorCode;
  readonly status: number;
  readonly field: string | null;
  constructor(code: ManagerErrorCode, status: number, message: string, field: string | null = null) {
    super(message);
    this.name = 'ManagerError';
    this.code = code;
    this.status = status;
    this.field = field;
  }
}

export interface ManagerOptions {
  /** Show everything, change nothing (no forms, no nonces; every change is 403). */
  readOnly?: boolean;
  /** Last word on each validated change; false (or a rejected promise) answers 403. */
  authorize?: (req: IncomingMessage, change: ChangeSet) => boolean | Promise<boolean>;
  /** Who made a change, for the audit event (e.g. the user your authentication set). */
  actor?: (req: IncomingMessage) => string | undefined;
  /** Extra origins allowed to post changes, e.g. "https://admin.example.com". */
  allowedOrigins?: string[];
  /**
   * Host names (or `host:port`) the manager answers to besides localhost, 127.0.0.1, [::1] and the
   * address a connection arrived on, e.g. "admin.example.com". Every other Host is refused (DNS rebinding).
   */
  allowedHosts?: string[];
  /** Largest request body accepted, in bytes. Default 16 KiB. */
  bodyLimit?: number;
  /**
   * The path the manager answers under when nothing strips it first (plain node:http), e.g.
   * "/balancer-manager": the router removes it from the URL itself and passes on (or answers 404 to)
   * every URL outside it. Not needed under Express's `app.use('/balancer-manager', router)`.
   */
  mount?: string;
}

export type NextFunction = (err?: unknown) => void;

/** The router: a plain Connect/Express handler that also emits "audit" events. */
export interface ManagerRouter {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void;
  on(event: 'audit', listener: (e: AuditEvent) => void): ManagerRouter;
  once(event: 'audit', listener: (e: AuditEvent) => void): ManagerRouter;
  off(event: 'audit', listener: (e: AuditEvent) => void): ManagerRouter;
}
