import type { IncomingMessage } from 'node:http';
import type { Outcome } from './outcome.js';

/** One attempt of a request, as the access log and the metrics see it. Times in milliseconds. */
export interface AttemptRecord {
  worker: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** How it ended (the Outcome's kind). */
  outcome: Outcome['kind'];
  /** The worker's status when its response started, else undefined. */
  status: number | undefined;
  /** Why this attempt was made again, elsewhere or on the same worker: the previous attempt's outcome. */
  retryOf: Outcome['kind'] | undefined;
  /** From the request's start to this attempt's start. */
  startMs: number;
  /** From the attempt's start to its connection (undefined: the forwarder did not report it). */
  connectMs: number | undefined;
  /** From the attempt's start to the worker's response head (undefined: no response). */
  ttfbMs: number | undefined;
  /** From the attempt's start to its end. */
  durationMs: number;
  /** Bytes sent to the worker (request line, headers, body). */
  sent: number;
  /** Bytes received from the worker (status line, body). */
  received: number;
}

/**
 * One request, emitted once when it ends (the Balancer's `request` event): the access log. Times
 * come from the balancer's clock, in milliseconds.
 */
export interface RequestEvent {
  /** "balancer://name". */
  balancer: string;
  method: string;
  /** The request's URL as the client sent it. */
  url: string;
  /** The status the client was answered, 0 when no answer started (the client left, the connection was cut). */
  status: number;
  /** The worker of the last attempt, if any. */
  worker: string | undefined;
  /** Workers tried, in order. */
  workers: readonly string[];
  attempts: readonly AttemptRecord[];
  /** The sticky route the client asked for, and the cookie or parameter it came in. */
  route: string | undefined;
  sticky: string | undefined;
  /** A retry was refused because the balancer's retry budget was spent. */
  budgetRefused: boolean;
  /** Bytes sent to and received from workers, over every attempt. */
  sent: number;
  received: number;
  /** Waiting for a worker (the queue, or no usable worker within `timeout`). */
  queueMs: number;
  /** Of the last attempt (undefined: not reported, or no attempt). */
  connectMs: number | undefined;
  /** Of the last attempt: its start to the worker's response head. */
  ttfbMs: number | undefined;
  /** From the request's arrival at the balancer to its end. */
  totalMs: number;
  /** Clock time of the request's arrival and end. */
  start: number;
  time: number;
}

/**
 * Follows requests as they happen (tracing): set on a balancer as `requestTracer`. Every method is
 * called on the request path and must not throw.
 */
export interface RequestTracer {
  /** A request starts: its trace, or undefined to follow nothing. */
  request(req: IncomingMessage, balancer: string): RequestTrace | undefined;
}

export interface RequestTrace {
  /** An attempt starts: headers to add to the worker's request (the trace context), if any. */
  attempt(worker: string, attempt: number, retryOf: Outcome['kind'] | undefined): AttemptTrace;
  end(event: RequestEvent): void;
}

export interface AttemptTrace {
  readonly headers: Readonly<Record<string, string>> | undefined;
  end(record: AttemptRecord): void;
}
