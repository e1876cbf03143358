import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { AttemptEvent, Balancer } from '../balancer/balancer.js';
import type { WorkerEvent } from '../balancer/events.js';
import type { RequestEvent } from '../model/request-event.js';
import { log } from '../debug.js';
import { loadPromClient } from './load.js';
import { MetricSet, type StoreLike } from './metric-set.js';

/** What metricsHandler needs of `balancer()`'s middleware: its balancers and its store. */
export interface MetricsSource {
  readonly balancers: readonly Balancer[];
  readonly store?: unknown;
}

/** A prom-client `Registry`, as far as this library uses one. */
export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface MetricsOptions {
  /** A prom-client Registry to add the metrics to (with your own); default: a registry of their own. */
  registry?: MetricsRegistry;
}

/** A (req, res, next) handler answering the Prometheus exposition. */
export interface MetricsHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** Settles once prom-client is loaded and counting; rejects with ObserveError when it is not installed. */
  readonly ready: Promise<void>;
  /** Stops counting and takes the metrics out of the registry. */
  stop(): void;
}

/** Events that arrive while prom-client loads are replayed; beyond this many they are dropped. */
const MAX_PENDING = 100_000;

const handlers = new WeakMap<MetricsSource, Map<MetricsRegistry | undefined, MetricsHandler>>();

/**
 * Prometheus metrics of the balancers of `lb`, served by the handler returned (mount it where your
 * scraper looks, e.g. `app.get('/metrics', metricsHandler(lb))`). Counting starts now; prom-client
 * is imported now, and only here. One handler per `lb` and registry: later calls return the first.
 */
export function metricsHandler(lb: MetricsSource, options: MetricsOptions = {}): MetricsHandler {
  let byRegistry = handlers.get(lb);
  if (!byRegistry) handlers.set(lb, (byRegistry = new Map<MetricsRegistry | undefined, MetricsHandler>()));
  let handler = byRegistry.get(options.registry);
  if (!handler) {
    handler = createHandler(lb, options.registry, () => byRegistry.delete(options.registry));
    byRegistry.set(options.registry, handler);
  }
  return handler;
}

function createHandler(lb: MetricsSource, given: MetricsRegistry | undefined, forget: () => void): MetricsHandler {
  let set: MetricSet | undefined;
  let failed: unknown;
  let stopped = false;
  const pending: ((s: MetricSet) => void)[] = [];
  const record = (fn: (s: MetricSet) => void): void => {
    if (set) fn(set);
    else if (failed === undefined && pending.length < MAX_PENDING) pending.push(fn);
  };
  const unsubscribe = subscribe(lb.balancers, record);
  const ready = loadPromClient().then(
    (prom) => {
      if (stopped) return;
      const registry = (given as Registry | undefined) ?? new prom.Registry();
      set = new MetricSet(prom, registry, lb.balancers, lb.store as StoreLike | undefined);
      for (const fn of pending.splice(0)) fn(set);
    },
    (err: unknown) => {
      failed = err;
      pending.length = 0;
      unsubscribe();
      throw err;
    },
  );
  ready.catch(() => undefined);

  const handler = ((req, res, next) => {
    ready
      .then(
        async () => {
          if (!set) throw new Error('metricsHandler was stopped');
          const body = await set.registry.metrics();
          res.writeHead(200, { 'content-type': set.registry.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          throw err;
        },
      )
      .catch((err: unknown) => {
        log.observe('metrics: %s', (err as Error).message);
        if (next) return next(err);
        if (res.headersSent) return void res.destroy();
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${(err as Error).message}\n`);
      });
  }) as MetricsHandler;
  Object.defineProperties(handler, {
    ready: { value: ready },
    stop: {
      value: () => {
        if (stopped) return;
        stopped = true;
        unsubscribe();
        set?.remove();
        set = undefined;
        forget();
      },
    },
  });
  return handler;
}

/** Listens to every balancer's request, attempt and worker events; returns the unsubscribe. */
function subscribe(balancers: readonly Balancer[], record: (fn: (s: MetricSet) => void) => void): () => void {
  const offs: (() => void)[] = [];
  for (const b of balancers) {
    const onRequest = (e: RequestEvent): void => record((s) => s.onRequest(b, e));
    const onAttempt = (e: AttemptEvent): void => record((s) => s.onAttempt(b, e));
    const onWorker = (e: WorkerEvent): void => record((s) => s.onWorkerEvent(e));
    b.on('request', onRequest);
    b.on('attempt', onAttempt);
    for (const type of ['worker-ejected', 'health-failed', 'health-passed'] as const) b.on(type, onWorker);
    offs.push(() => {
      b.off('request', onRequest);
      b.off('attempt', onAttempt);
      for (const type of ['worker-ejected', 'health-failed', 'health-passed'] as const) b.off(type, onWorker);
    });
  }
  return () => {
    for (const off of offs) off();
  };
}
