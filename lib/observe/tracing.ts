import type { IncomingMessage } from 'node:http';
import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import type { Balancer } from '../balancer/balancer.js';
import type { Outcome } from '../model/outcome.js';
import type { AttemptRecord, AttemptTrace, RequestEvent, RequestTrace, RequestTracer } from '../model/request-event.js';
import { loadOtelApi } from './load.js';

type Api = typeof import('@opentelemetry/api');

/** The instrumentation scope's name. */
const NAME = 'express-proxy-balancer';

export interface TracingOptions {
  /**
   * The OpenTelemetry `TracerProvider` to trace with; default: the one registered globally (an SDK's).
   * Typed by its one method used here, so these types need no OpenTelemetry package.
   */
  tracerProvider?: { getTracer(name: string, version?: string): object };
}

/** Tracing of one set of balancers, started by traceRequests. */
export interface RequestTracing {
  /** Stops starting spans (requests in flight finish theirs). */
  stop(): void;
}

/**
 * OpenTelemetry traces of every request through the balancers of `lb`: a server span per request and
 * a client span per attempt, their trace context sent to the worker. `@opentelemetry/api` is imported
 * here, and only here; while no tracer provider is registered nothing is done per request.
 */
export async function traceRequests(
  lb: { readonly balancers: readonly Balancer[] },
  options: TracingOptions = {},
): Promise<RequestTracing> {
  const api = await loadOtelApi();
  const tracer = new OtelTracer(api, options.tracerProvider as TracerProvider | undefined);
  for (const b of lb.balancers) b.requestTracer = tracer;
  return {
    stop() {
      for (const b of lb.balancers) if (b.requestTracer === tracer) b.requestTracer = undefined;
    },
  };
}

class OtelTracer implements RequestTracer {
  readonly #tracer: Tracer;

  constructor(
    readonly api: Api,
    readonly provider: TracerProvider | undefined,
  ) {
    this.#tracer = (provider ?? api.trace).getTracer(NAME);
  }

  /** A provider was given, or an SDK registered one globally (the default is a no-op). */
  #registered(): boolean {
    if (this.provider) return true;
    const global = this.api.trace.getTracerProvider() as Partial<{ getDelegateTracer(name: string): unknown }>;
    return typeof global.getDelegateTracer !== 'function' || global.getDelegateTracer(NAME) !== undefined;
  }

  request(req: IncomingMessage, balancer: string): RequestTrace | undefined {
    if (!this.#registered()) return undefined;
    const { api } = this;
    const parent = api.propagation.extract(api.ROOT_CONTEXT, req.headers);
    const method = req.method ?? 'GET';
    const span = this.#tracer.startSpan(
      method,
      { kind: api.SpanKind.SERVER, attributes: serverAttributes(req, method, balancer) },
      parent,
    );
    return new OtelRequest(api, this.#tracer, span, api.trace.setSpan(parent, span), method, balancer);
  }
}

class OtelRequest implements RequestTrace {
  constructor(
    readonly api: Api,
    readonly tracer: Tracer,
    readonly span: Span,
    readonly context: Context,
    readonly method: string,
    readonly balancer: string,
  ) {}

  attempt(worker: string, attempt: number, retryOf: Outcome['kind'] | undefined): AttemptTrace {
    const { api } = this;
    const span = this.tracer.startSpan(
      this.method,
      { kind: api.SpanKind.CLIENT, attributes: clientAttributes(this.method, this.balancer, worker, attempt, retryOf) },
      this.context,
    );
    const headers: Record<string, string> = {};
    api.propagation.inject(api.trace.setSpan(this.context, span), headers);
    // Without a registered propagator, still W3C Trace Context (what the SDKs register by default).
    if (headers.traceparent === undefined) {
      const sc = span.spanContext();
      if (api.isSpanContextValid(sc)) headers.traceparent = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
    }
    return new OtelAttempt(api, span, Object.keys(headers).length > 0 ? headers : undefined);
  }

  end(e: RequestEvent): void {
    const attrs: Attributes = {
      'balancer.attempts': e.attempts.length,
      'balancer.budget_refused': e.budgetRefused,
    };
    if (e.status > 0) attrs['http.response.status_code'] = e.status;
    if (e.worker !== undefined) attrs['balancer.worker'] = e.worker;
    if (e.route !== undefined) attrs['balancer.route'] = e.route;
    if (e.sticky !== undefined) attrs['balancer.sticky'] = e.sticky;
    this.span.setAttributes(attrs);
    // HTTP semantic conventions: a server span is an error for 5xx only, or when no answer went out.
    if (e.status === 0 || e.status >= 500) {
      this.span.setAttribute(
        'error.type',
        e.status === 0 ? (e.attempts.at(-1)?.outcome ?? '_OTHER') : String(e.status),
      );
      this.span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    }
    this.span.end();
  }
}

class OtelAttempt implements AttemptTrace {
  constructor(
    readonly api: Api,
    readonly span: Span,
    readonly headers: Readonly<Record<string, string>> | undefined,
  ) {}

  end(a: AttemptRecord): void {
    this.span.setAttribute('balancer.outcome', a.outcome);
    if (a.status !== undefined) this.span.setAttribute('http.response.status_code', a.status);
    const failed = a.outcome !== 'completed' || (a.status !== undefined && a.status >= 400);
    if (failed) {
      this.span.setAttribute('error.type', a.outcome === 'completed' ? String(a.status) : a.outcome);
      this.span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    }
    this.span.end();
  }
}

function serverAttributes(req: IncomingMessage, method: string, balancer: string): Attributes {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const attrs: Attributes = {
    'http.request.method': method,
    'url.scheme': (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http',
    'url.path': q === -1 ? url : url.slice(0, q),
    'network.protocol.version': req.httpVersion,
    'balancer.name': balancer,
  };
  if (q !== -1) attrs['url.query'] = url.slice(q + 1);
  if (req.socket.remoteAddress !== undefined) attrs['client.address'] = req.socket.remoteAddress;
  const ua = req.headers['user-agent'];
  if (ua !== undefined) attrs['user_agent.original'] = ua;
  return attrs;
}

function clientAttributes(
  method: string,
  balancer: string,
  worker: string,
  attempt: number,
  retryOf: Outcome['kind'] | undefined,
): Attributes {
  const attrs: Attributes = {
    'http.request.method': method,
    'balancer.name': balancer,
    'balancer.worker': worker,
    'balancer.attempt': attempt,
  };
  const u = URL.parse(worker);
  if (u) {
    attrs['server.address'] = u.hostname;
    attrs['server.port'] = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  }
  if (attempt > 1) attrs['http.request.resend_count'] = attempt - 1;
  if (retryOf !== undefined) attrs['balancer.retry_reason'] = retryOf;
  return attrs;
}
