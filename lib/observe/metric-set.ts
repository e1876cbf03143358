import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptEvent, Balancer } from '../balancer/balancer.js';
import type { WorkerEvent } from '../balancer/events.js';
import type { RequestEvent } from '../model/request-event.js';
import { FLAGS, isUsableStatus } from '../model/status.js';
import { healthOf } from '../health/monitor.js';

type PromClient = typeof import('prom-client');

/** Labels are bounded: balancers and workers (configured, or added within `growth`), and small fixed sets. */
type B = 'balancer';
type BW = 'balancer' | 'worker';

/** Method classes: the common methods, every other one as "other" (a client may send any token). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export function methodClass(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

/** "2xx" … "5xx", or "none" when no answer started. */
export function statusClass(status: number): string {
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : 'none';
}

/** Seconds, from the phase times' milliseconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The store's connection, for stores that have one (RedisStore's `connected`). */
export interface StoreLike {
  readonly connected?: unknown;
}

/**
 * Every metric of a set of balancers in one registry. Counters and histograms follow the balancers'
 * events; gauges read the balancers when scraped. Names follow Prometheus conventions (base units,
 * `_total`, `_seconds`, `_bytes`); docs/metrics.md lists them.
 */
export class MetricSet {
  readonly requests: Counter<BW | 'method' | 'status_class'>;
  readonly attempts: Counter<BW | 'outcome'>;
  readonly retries: Counter<BW>;
  readonly budgetRefusals: Counter<B>;
  readonly duration: Histogram<BW>;
  readonly ttfb: Histogram<BW>;
  readonly queueWait: Histogram<B>;
  readonly sent: Counter<BW>;
  readonly received: Counter<BW>;
  readonly sticky: Counter<B | 'result'>;
  readonly ejections: Counter<BW>;
  readonly healthTransitions: Counter<BW | 'result'>;
  readonly names: string[] = [];

  constructor(
    prom: PromClient,
    readonly registry: Registry,
    readonly balancers: readonly Balancer[],
    readonly store: StoreLike | undefined,
  ) {
    const registers = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> => {
      this.names.push(name);
      return new prom.Counter({ name, help, labelNames, registers });
    };
    const histogram = <L extends string>(name: string, help: string, labelNames: L[]): Histogram<L> => {
      this.names.push(name);
      return new prom.Histogram({ name, help, labelNames, buckets: BUCKETS, registers });
    };
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      collect: (g: Gauge<L>) => void,
    ): void => {
      this.names.push(name);
      new prom.Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          collect(this);
        },
      });
    };
    const bw: BW[] = ['balancer', 'worker'];
    this.requests = counter('epb_requests_total', 'Requests handled, by the worker of their last attempt', [
      ...bw,
      'method',
      'status_class',
    ]);
    this.attempts = counter('epb_attempts_total', 'Attempts sent to workers, by how they ended', [...bw, 'outcome']);
    this.retries = counter('epb_retries_total', 'Attempts after the first of a request, by the worker retried on', bw);
    this.budgetRefusals = counter('epb_retry_budget_refusals_total', 'Retries refused by the retry budget', [
      'balancer',
    ]);
    this.duration = histogram(
      'epb_request_duration_seconds',
      'Requests from arrival to end, by the worker of their last attempt',
      bw,
    );
    this.ttfb = histogram(
      'epb_worker_first_byte_seconds',
      "Time from an attempt's start to the worker's response head",
      bw,
    );
    this.queueWait = histogram('epb_queue_wait_seconds', 'Time requests that waited spent waiting for a worker', [
      'balancer',
    ]);
    this.sent = counter('epb_worker_sent_bytes_total', 'Bytes sent to workers (request line, headers, body)', bw);
    this.received = counter('epb_worker_received_bytes_total', 'Bytes received from workers (status line, body)', bw);
    this.sticky = counter(
      'epb_sticky_requests_total',
      'Requests carrying a sticky route, by whether its worker took them',
      ['balancer', 'result'],
    );
    this.ejections = counter('epb_worker_ejections_total', 'Outlier ejections', bw);
    this.healthTransitions = counter(
      'epb_health_transitions_total',
      'Workers failing or passing their health check (after hcfails or hcpasses checks in a row)',
      [...bw, 'result'],
    );
    const each = (fn: (b: Balancer) => void): void => {
      for (const b of balancers) fn(b);
    };
    gauge('epb_inflight_requests', 'Requests in flight on each worker', bw, (g) =>
      each((b) => {
        for (const w of b.workers) g.set({ balancer: b.name, worker: w.name }, w.busy);
      }),
    );
    gauge('epb_queued_requests', 'Requests waiting for a worker with a free slot', ['balancer'], (g) =>
      each((b) => g.set({ balancer: b.name }, b.queued)),
    );
    gauge(
      'epb_worker_state',
      "1 when the worker's status has this flag (Apache's letters), else 0",
      [...bw, 'state'],
      (g) =>
        each((b) => {
          for (const w of b.workers) {
            for (const f of FLAGS)
              g.set({ balancer: b.name, worker: w.name, state: f.letter }, w.status & f.bit ? 1 : 0);
          }
        }),
    );
    gauge('epb_worker_usable', '1 when the worker may be chosen, else 0', bw, (g) =>
      each((b) => {
        for (const w of b.workers) g.set({ balancer: b.name, worker: w.name }, isUsableStatus(w.status) ? 1 : 0);
      }),
    );
    gauge('epb_health_checks', 'Active health checks run on each worker since start', bw, (g) =>
      each((b) => {
        const h = healthOf(b);
        for (const w of b.workers) {
          const c = h?.checker(w);
          if (c) g.set({ balancer: b.name, worker: w.name }, c.checks);
        }
      }),
    );
    gauge('epb_health_check_up', "1 when the worker's last active health check passed, else 0", bw, (g) =>
      each((b) => {
        const h = healthOf(b);
        for (const w of b.workers) {
          const last = h?.checker(w)?.lastResult;
          if (last) g.set({ balancer: b.name, worker: w.name }, last.ok ? 1 : 0);
        }
      }),
    );
    gauge('epb_store_connected', '1 while the state store is reachable (always 1 for a local store)', [], (g) => {
      const c = store?.connected;
      g.set(typeof c === 'boolean' && !c ? 0 : 1);
    });
  }

  onRequest(b: Balancer, e: RequestEvent): void {
    const worker = e.worker ?? 'none';
    const bw = { balancer: b.name, worker };
    this.requests.inc({ ...bw, method: methodClass(e.method), status_class: statusClass(e.status) });
    this.duration.observe(bw, e.totalMs / 1000);
    for (const a of e.attempts) {
      if (a.ttfbMs !== undefined) this.ttfb.observe({ balancer: b.name, worker: a.worker }, a.ttfbMs / 1000);
      if (a.attempt > 1) this.retries.inc({ balancer: b.name, worker: a.worker });
    }
    if (e.budgetRefused) this.budgetRefusals.inc({ balancer: b.name });
    if (e.queueMs > 0) this.queueWait.observe({ balancer: b.name }, e.queueMs / 1000);
    if (e.route !== undefined) {
      const hit = e.worker !== undefined && b.worker(e.worker)?.route === e.route;
      this.sticky.inc({ balancer: b.name, result: hit ? 'hit' : 'miss' });
    }
  }

  onAttempt(b: Balancer, e: AttemptEvent): void {
    const bw = { balancer: b.name, worker: e.worker.name };
    this.attempts.inc({ ...bw, outcome: outcomeLabel(b, e) });
    if (e.outcome.transferred > 0) this.sent.inc(bw, e.outcome.transferred);
    if (e.outcome.read > 0) this.received.inc(bw, e.outcome.read);
  }

  onWorkerEvent(e: WorkerEvent): void {
    const bw = { balancer: e.balancer.name, worker: e.worker.name };
    if (e.type === 'worker-ejected') this.ejections.inc(bw);
    else if (e.type === 'health-failed') this.healthTransitions.inc({ ...bw, result: 'failed' });
    else if (e.type === 'health-passed') this.healthTransitions.inc({ ...bw, result: 'passed' });
  }

  /** Takes every metric out of the registry. */
  remove(): void {
    for (const name of this.names) this.registry.removeSingleMetric(name);
  }
}

/** The outcome's kind in snake case; an answer failonstatus counts as a failure ("failonstatus"). */
function outcomeLabel(b: Balancer, e: AttemptEvent): string {
  const o = e.outcome;
  if (o.kind === 'completed' && b.failonstatus.has(o.status)) return 'failonstatus';
  return o.kind.replace('-', '_');
}
