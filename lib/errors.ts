/**
 * Every error this library raises carries a stable `code` (what callers match on) and, for
 * configuration errors, the field path and the offending value. Messages may change; codes may not.
 * Each code has an anchor in docs/errors.md (a test keeps the two in step).
 */
export const ERROR_CODES = {
  ERR_CONFIG_INVALID: 'a configuration value is missing, of the wrong type or out of range',
  ERR_CONFIG_DUPLICATE: 'two balancers or two members of one balancer share a name',
  ERR_SCHEDULER_UNKNOWN: 'lbmethod names no registered scheduler',
  ERR_SCHEDULER_EXISTS: 'a scheduler of that name is already registered',
  ERR_NO_WORKER: 'no usable worker could take the request (503)',
  ERR_ROUTE_UNAVAILABLE: 'nofailover is on and the worker owning the sticky route is unusable (503)',
  ERR_WORKER_CONNECT: 'every attempt failed to connect to a worker (503)',
  ERR_WORKER_TIMEOUT: 'the worker did not answer within its response timeout (504)',
  ERR_WORKER_RESPONSE: 'the worker closed, reset or answered garbage before a response (502)',
  ERR_BODY_CONSUMED: 'the request body was read by an earlier middleware and cannot be forwarded (500)',
  ERR_BODY_TIMEOUT: 'the client paused sending its request body for longer than bodyTimeout (408)',
  ERR_HEADERS_TOO_MANY: 'the request has more header fields than the server keeps, so its framing is unknown (431)',
  ERR_TRANSFER_CODING: 'the request body uses a transfer-coding other than chunked (501)',
  ERR_QUEUE_FULL: 'every candidate worker is at its max and the queue is full or its wait timed out (503)',
  ERR_BAD_PATH:
    'the request path names one mount but its dot segments leave it or reach another, or it holds a "#" (400)',
  ERR_CLOSED: 'the balancer is closed and takes no new requests (503)',
  ERR_STORE_TIMEOUT: 'the store did not load the admin state within storeTimeout and storeStrict is on (503)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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
