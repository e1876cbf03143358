/**
 * Every error this library raises carries a stable `code` (what callers match on). Messages may
 * change; codes may not. ERRORS is the one table of them all, whatever the class: the class that
 * carries the code, the HTTP status(es) it answers (0: thrown at the caller, never an HTTP answer)
 * and its meaning. Each code has a section in docs/errors.md (a test keeps the two in step).
 */
export const ERRORS = {
  // BalancerError: configuration (status 0) and requests the balancer ends itself
  ERR_CONFIG_INVALID: balancerCode(0, 'a configuration value is missing, of the wrong type or out of range'),
  ERR_CONFIG_DUPLICATE: balancerCode(0, 'two balancers or two members of one balancer share a name'),
  ERR_SCHEDULER_UNKNOWN: balancerCode(0, 'lbmethod names no registered scheduler'),
  ERR_SCHEDULER_EXISTS: balancerCode(0, 'a scheduler of that name is already registered'),
  ERR_NO_WORKER: balancerCode(503, 'no usable worker could take the request (503)'),
  ERR_ROUTE_UNAVAILABLE: balancerCode(503, 'nofailover is on and the worker owning the sticky route is unusable (503)'),
  ERR_WORKER_CONNECT: balancerCode(503, 'every attempt failed to connect to a worker (503)'),
  ERR_WORKER_TIMEOUT: balancerCode(504, 'the worker did not answer within its response timeout (504)'),
  ERR_WORKER_RESPONSE: balancerCode(502, 'the worker closed, reset or answered garbage before a response (502)'),
  ERR_BODY_CONSUMED: balancerCode(
    500,
    'the request body was read by an earlier middleware and cannot be forwarded (500)',
  ),
  ERR_BODY_TIMEOUT: balancerCode(408, 'the client paused sending its request body for longer than bodyTimeout (408)'),
  ERR_HEADERS_TOO_MANY: balancerCode(
    431,
    'the request has more header fields than the server keeps, so its framing is unknown (431)',
  ),
  ERR_TRANSFER_CODING: balancerCode(501, 'the request body uses a transfer-coding other than chunked (501)'),
  ERR_QUEUE_FULL: balancerCode(
    503,
    'every candidate worker is at its max and the queue is full or its wait timed out (503)',
  ),
  ERR_BAD_PATH: balancerCode(
    400,
    'the request path names one mount but its dot segments leave it or reach another, or it holds a "#" (400)',
  ),
  ERR_CLOSED: balancerCode(503, 'the balancer is closed and takes no new requests (503)'),
  ERR_STORE_TIMEOUT: balancerCode(
    503,
    'the store did not load the admin state within storeTimeout and storeStrict is on (503)',
  ),
  // ManagerError: the balancer-manager refuses a request
  ERR_MANAGER_INVALID: managerCode(400, 'a value is malformed or out of range; field names it'),
  ERR_MANAGER_BODY: managerCode(
    [400, 413, 415],
    'the body is not JSON or urlencoded, is too large, or repeats a field',
  ),
  ERR_MANAGER_NOT_FOUND: managerCode(404, 'no such balancer, worker or path'),
  ERR_MANAGER_CONFLICT: managerCode(409, 'the worker to add already exists, or growth is used up'),
  ERR_MANAGER_NONCE: managerCode(403, 'the nonce is wrong or missing'),
  ERR_MANAGER_ORIGIN: managerCode(403, 'the change does not come from this origin'),
  ERR_MANAGER_HOST: managerCode(403, 'the Host header is missing, malformed or not an allowed host'),
  ERR_MANAGER_READ_ONLY: managerCode(403, 'the manager is read-only'),
  ERR_MANAGER_FORBIDDEN: managerCode(403, 'authorize() refused the change'),
  ERR_MANAGER_METHOD: managerCode(405, 'the method is not allowed on this path'),
  ERR_MANAGER_STORE: managerCode(500, 'the change was applied but the store could not save it'),
  ERR_MANAGER_STORE_QUEUED: managerCode(503, 'the change was applied; the store is down and saves it when it answers'),
  ERR_MANAGER_UNAVAILABLE: managerCode(503, 'the stored state could not be loaded at start-up'),
  ERR_MANAGER_INTERNAL: managerCode(500, 'the manager failed unexpectedly (a bug: the details are logged)'),
  // StoreError: FileStore's state file
  ERR_STORE_CORRUPT: storeCode('StoreError', 'the state file does not parse or is not a balancer state file'),
  ERR_STORE_IO: storeCode('StoreError', 'the state file cannot be read or written'),
  // RedisStoreError: RedisStore
  ERR_REDIS_MISSING: storeCode('RedisStoreError', 'the optional peer dependency ioredis is not installed'),
  ERR_REDIS_UNAVAILABLE: storeCode('RedisStoreError', 'Redis cannot be reached when it must be'),
  ERR_REDIS_OPTIONS: storeCode('RedisStoreError', 'a RedisStore option is malformed'),
  // ObserveError: metrics and traces
  ERR_PROM_CLIENT_MISSING: observeCode('metricsHandler needs the optional peer dependency prom-client'),
  ERR_OTEL_MISSING: observeCode('traceRequests needs the optional peer dependency @opentelemetry/api'),
} as const satisfies Record<string, ErrorEntry>;

/** The classes that carry codes, by name. */
export type ErrorClass = 'BalancerError' | 'ManagerError' | 'StoreError' | 'RedisStoreError' | 'ObserveError';

/** One row of ERRORS. */
export interface ErrorEntry {
  readonly class: ErrorClass;
  /** The HTTP statuses this code answers; empty when it is only ever thrown at the caller. */
  readonly status: readonly number[];
  readonly message: string;
}

function balancerCode<S extends number>(status: S, message: string) {
  return { class: 'BalancerError', status: status === 0 ? [] : [status], message } as const;
}
function managerCode(status: number | readonly number[], message: string) {
  return { class: 'ManagerError', status: typeof status === 'number' ? [status] : status, message } as const;
}
function observeCode(message: string) {
  return { class: 'ObserveError', status: [], message } as const;
}
function storeCode<C extends 'StoreError' | 'RedisStoreError'>(cls: C, message: string) {
  return { class: cls, status: [], message } as const;
}

/** Every code of one class. */
export type CodeOf<C extends ErrorClass> = {
  [K in keyof typeof ERRORS]: (typeof ERRORS)[K]['class'] extends C ? K : never;
}[keyof typeof ERRORS];

/** Where a code is explained: its section in docs/errors.md. */
export function errorDocs(code: keyof typeof ERRORS): string {
  return `docs/errors.md#${code.toLowerCase()}`;
}

/** BalancerError's codes. */
export type ErrorCode = CodeOf<'BalancerError'>;

/** BalancerError's codes and their one-line meanings (the BalancerError rows of ERRORS). */
export const ERROR_CODES = Object.fromEntries(
  Object.entries(ERRORS)
    .filter(([, e]) => e.class === 'BalancerError')
    .map(([code, e]) => [code, e.message]),
) as Readonly<Record<ErrorCode, string>>;

const BRAND = Symbol.for('express-proxy-balancer.error');

export class BalancerError extends Error {
  readonly code: ErrorCode;
  /** HTTP status the client gets when this error ends a request (0 for configuration errors). */
  readonly status: number;
  constructor(code: ErrorCode, message: string, status = 0, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BalancerError';
    this.code = code;
    this.status = status;
  }

  /** True for errors from any loaded copy of this library (CJS and ESM copies included). */
  static is(value: unknown): value is BalancerError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
Object.defineProperty(BalancerError.prototype, BRAND, { value: true });

/** A configuration error: names the field path, shows the bad value and says what is allowed. */
export class ConfigError extends BalancerError {
  readonly field: string;
  readonly value: unknown;
  readonly allowed: string;
  constructor(field: string, value: unknown, allowed: string, code: ErrorCode = 'ERR_CONFIG_INVALID') {
    super(code, `${field}: ${describe(value)} ${allowed}`);
    this.name = 'ConfigError';
    this.field = field;
    this.value = value;
    this.allowed = allowed;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    // JSON.stringify returns undefined for functions and symbols, whatever its typing says
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
