import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { Outcome } from '../forward/outcome.js';
import type { RequestContext } from '../model/context.js';
import type { AttemptRecord, AttemptTrace, RequestEvent, RequestTrace } from '../model/request-event.js';
import { log } from '../debug.js';

/** The attempt in progress: its start, its response head and its trace. */
interface Current {
  worker: string;
  start: number;
  head: number | undefined;
  status: number | undefined;
  trace: AttemptTrace | undefined;
}

/**
 * What one request did, for the `request` event and its trace: built only when someone listens
 * (RequestRecord.begin returns undefined otherwise, and the request path skips every call). Phase
 * times are taken on the balancer's clock at the points the request path sees: selection, attempt
 * start, the worker's response head, attempt end. The connect time is not seen there; it is left
 * undefined until the forwarder reports it.
 */
export class RequestRecord {
  readonly #start: number;
  readonly #attempts: AttemptRecord[] = [];
  #current: Current | undefined;
  #waitStart = 0;
  #queueMs = 0;
  #budgetRefused = false;
  #ended = false;

  private constructor(
    readonly balancer: Balancer,
    readonly req: IncomingMessage,
    readonly res: ServerResponse | undefined,
    readonly ctx: RequestContext,
    readonly trace: RequestTrace | undefined,
  ) {
    this.#start = balancer.clock.now();
  }

  /** A record for the request, or undefined when nobody listens for requests and no tracer follows them. */
  static begin(
    balancer: Balancer,
    req: IncomingMessage,
    res: ServerResponse | undefined,
    ctx: RequestContext,
  ): RequestRecord | undefined {
    const trace = balancer.requestTracer?.request(req, balancer.id);
    if (trace === undefined && balancer.listenerCount('request') === 0) return undefined;
    return new RequestRecord(balancer, req, res, ctx, trace);
  }

  #now(): number {
    return this.balancer.clock.now();
  }

  /** A selection starts (it may wait for a worker or a slot). */
  selecting(): void {
    this.#waitStart = this.#now();
  }

  selected(): void {
    this.#queueMs += this.#now() - this.#waitStart;
  }

  attemptStart(worker: Worker): void {
    const previous = this.#attempts.at(-1)?.outcome;
    const trace = this.trace?.attempt(worker.name, this.#attempts.length + 1, previous);
    this.#current = { worker: worker.name, start: this.#now(), head: undefined, status: undefined, trace };
  }

  /** The client's headers with the attempt's trace context added (the same object when there is none). */
  outgoing(headers: IncomingHttpHeaders): IncomingHttpHeaders {
    const extra = this.#current?.trace?.headers;
    return extra === undefined ? headers : { ...headers, ...extra };
  }

  responseHead(status: number | undefined): void {
    const c = this.#current;
    if (c === undefined) return;
    c.head = this.#now();
    c.status = status;
  }

  attemptEnd(outcome: Outcome): void {
    const c = this.#current;
    if (c === undefined) return;
    this.#current = undefined;
    const now = this.#now();
    const record: AttemptRecord = {
      worker: c.worker,
      attempt: this.#attempts.length + 1,
      outcome: outcome.kind,
      status: 'status' in outcome ? outcome.status : c.status,
      retryOf: this.#attempts.at(-1)?.outcome,
      startMs: c.start - this.#start,
      // The forwarder's own connect time; a failed connect took until it failed.
      connectMs: outcome.timings.connect ?? (outcome.kind === 'connect-failed' ? now - c.start : undefined),
      ttfbMs: c.head === undefined ? undefined : c.head - c.start,
      durationMs: now - c.start,
      sent: outcome.transferred,
      received: outcome.read,
    };
    this.#attempts.push(record);
    guard('attempt trace', () => c.trace?.end(record));
  }

  /** A retry was refused for want of retry budget. */
  budgetRefused(): void {
    this.#budgetRefused = true;
  }

  /** The request ended: emits its event once. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const event = this.#event();
    guard('request trace', () => this.trace?.end(event));
    if (this.balancer.listenerCount('request') > 0)
      guard('request listener', () => this.balancer.emit('request', event));
  }

  #event(): RequestEvent {
    const { ctx, res } = this;
    const attempts = this.#attempts;
    const last = attempts.at(-1);
    let sent = 0;
    let received = 0;
    for (const a of attempts) {
      sent += a.sent;
      received += a.received;
    }
    const time = this.#now();
    return {
      balancer: this.balancer.id,
      method: this.req.method ?? 'GET',
      url: this.req.url ?? '/',
      status: res?.headersSent === true ? res.statusCode : 0,
      worker: last?.worker,
      workers: [...ctx.tried],
      attempts,
      route: ctx.sessionRoute,
      sticky: ctx.sessionSticky,
      budgetRefused: this.#budgetRefused,
      sent,
      received,
      queueMs: this.#queueMs,
      connectMs: last?.connectMs,
      ttfbMs: last?.ttfbMs,
      totalMs: time - this.#start,
      start: this.#start,
      time,
    };
  }
}

/** A listener or tracer that throws must not break the request path. */
function guard(what: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    log.forward('%s threw: %s', what, (err as Error).stack ?? String(err));
  }
}
