/**
 * OpenTelemetry traces, recorded by the SDK's in-memory exporter: a span per request, a child span per
 * attempt with the balancer's attributes, the attempt's trace context at the worker, and nothing at
 * all while no tracer provider is registered.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { balancer, traceRequests, type BalancerOptions } from '../../lib/index.js';
import { Upstream, closedPort } from '../support/upstreams.js';
import { listen, request } from '../support/http.js';

propagation.setGlobalPropagator(new W3CTraceContextPropagator());
after(() => propagation.disable());

/** The client's own trace: the request span must be its child. */
const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

async function rig(urls: string[], opts: Partial<BalancerOptions> = {}) {
  const lb = balancer({
    balancers: [{ name: 'app', mount: '/app', ...opts, members: urls.map((url) => ({ url })) }],
  });
  const srv = await listen((req, res) => lb(req, res));
  return {
    lb,
    base: srv.base,
    async close() {
      await lb.close(100);
      await srv.close();
    },
  };
}

async function idle(lb: { balancers: readonly { inflight: number }[] }): Promise<void> {
  while (lb.balancers.some((b) => b.inflight > 0)) await new Promise((r) => setImmediate(r));
}

test('traces: a failed-over request has one request span and two attempt spans; the worker gets its attempt', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const ok = await new Upstream('ok').start();
  const closed = `http://127.0.0.1:${await closedPort()}`;
  const r = await rig([closed, ok.url]);
  const tracing = await traceRequests(r.lb, { tracerProvider: provider });
  try {
    const reply = await request(r.base, '/app/cart?item=3', {
      headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, 'user-agent': 'test-agent' },
    });
    assert.equal(reply.from, 'ok');
    await idle(r.lb);
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 3);
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    const attempts = spans
      .filter((s) => s.kind === SpanKind.CLIENT)
      .sort((a, b) => Number(a.attributes['balancer.attempt']) - Number(b.attributes['balancer.attempt']));
    assert.equal(attempts.length, 2);
    // The request span continues the client's trace; the attempts are its children.
    assert.equal(server.spanContext().traceId, CLIENT_TRACE);
    assert.equal(server.parentSpanContext?.spanId, CLIENT_SPAN);
    for (const a of attempts) {
      assert.equal(a.spanContext().traceId, CLIENT_TRACE);
      assert.equal(a.parentSpanContext?.spanId, server.spanContext().spanId);
    }
    assert.equal(server.name, 'GET');
    assert.deepEqual(server.attributes, {
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'url.path': '/app/cart',
      'url.query': 'item=3',
      'network.protocol.version': '1.1',
      'client.address': '127.0.0.1',
      'user_agent.original': 'test-agent',
      'balancer.name': 'balancer://app',
      'balancer.attempts': 2,
      'balancer.budget_refused': false,
      'balancer.worker': ok.url,
      'http.response.status_code': 200,
    });
    assert.equal(server.status.code, SpanStatusCode.UNSET);
    const closedPortNo = Number(new URL(closed).port);
    assert.deepEqual(attempts[0]!.attributes, {
      'http.request.method': 'GET',
      'balancer.name': 'balancer://app',
      'balancer.worker': closed,
      'balancer.attempt': 1,
      'server.address': '127.0.0.1',
      'server.port': closedPortNo,
      'balancer.outcome': 'connect-failed',
      'error.type': 'connect-failed',
    });
    assert.equal(attempts[0]!.status.code, SpanStatusCode.ERROR);
    assert.deepEqual(attempts[1]!.attributes, {
      'http.request.method': 'GET',
      'balancer.name': 'balancer://app',
      'balancer.worker': ok.url,
      'balancer.attempt': 2,
      'server.address': '127.0.0.1',
      'server.port': ok.port,
      'http.request.resend_count': 1,
      'balancer.retry_reason': 'connect-failed',
      'balancer.outcome': 'completed',
      'http.response.status_code': 200,
    });
    // The worker received the second attempt's context, not the client's.
    const second = attempts[1]!.spanContext();
    assert.equal(ok.hits[0]!.headers.traceparent, `00-${CLIENT_TRACE}-${second.spanId}-01`);
  } finally {
    tracing.stop();
    await r.close();
    await ok.stop();
  }
});

test('traces: a request without a trace starts one; an error answer marks the request span', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const ok = await new Upstream('ok').start();
  ok.mode = { status: 503 };
  const r = await rig([ok.url]);
  const tracing = await traceRequests(r.lb, { tracerProvider: provider });
  try {
    assert.equal((await request(r.base, '/app/x')).status, 503);
    await idle(r.lb);
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    const attempt = spans.find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(spans.length, 2);
    assert.equal(server.parentSpanContext, undefined);
    assert.deepEqual(
      [server.attributes['error.type'], server.status.code, attempt.attributes['error.type'], attempt.status.code],
      ['503', SpanStatusCode.ERROR, '503', SpanStatusCode.ERROR],
    );
    assert.equal(
      ok.hits[0]!.headers.traceparent,
      `00-${server.spanContext().traceId}-${attempt.spanContext().spanId}-01`,
    );
  } finally {
    tracing.stop();
    await r.close();
    await ok.stop();
  }
});

test('traces: while no tracer provider is registered nothing is done, and the client trace context passes as it came', async () => {
  const ok = await new Upstream('ok').start();
  const r = await rig([ok.url]);
  const tracing = await traceRequests(r.lb);
  try {
    assert.ok(r.lb.balancers[0]!.requestTracer);
    assert.equal((await request(r.base, '/app/a')).status, 200);
    const sent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
    assert.equal((await request(r.base, '/app/b', { headers: { traceparent: sent } })).status, 200);
    assert.deepEqual(
      ok.hits.map((h) => h.headers.traceparent),
      [undefined, sent],
    );
    tracing.stop();
    assert.equal(r.lb.balancers[0]!.requestTracer, undefined);
  } finally {
    tracing.stop();
    await r.close();
    await ok.stop();
  }
});
