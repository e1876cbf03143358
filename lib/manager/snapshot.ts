import type { Balancer } from '../balancer/balancer.js';
import { hashKeyText } from '../config/scheduler-options.js';
import type { Worker } from '../core/worker.js';
import type { StateStore } from '../model/store.js';
import type {
  BalancerSnapshot,
  DiscoverySnapshot,
  HealthCheckSnapshot,
  ManagerSnapshot,
  WorkerSnapshot,
} from './types.js';
import { appliesTo, statusSetText } from '../config/health.js';
import { healthOf } from '../health/monitor.js';
import { FLAGS, statusLetters, statusWords, HC_FAIL, IN_ERROR } from '../model/status.js';
import { stickyString } from '../balancer/admin.js';
import { listSchedulers } from '../schedulers/registry.js';
import { MemoryStore } from '../store/memory-store.js';
import { errorCount } from './error-counts.js';
import { clusterOf } from '../cluster/sync.js';
import { discoveryOf } from '../discovery/discovery.js';

export interface SnapshotSource {
  readonly balancers: readonly Balancer[];
  readonly store: StateStore;
}

/** One consistent picture of every balancer and worker; all three renderings read only this. */
export function buildSnapshot(lb: SnapshotSource, readOnly: boolean): ManagerSnapshot {
  return {
    version: 1,
    generatedAt: new Date().toISOString(),
    readOnly,
    persisted: !(lb.store instanceof MemoryStore),
    schedulers: listSchedulers(),
    balancers: lb.balancers.map((b) => balancerSnapshot(b, readOnly)),
    ...clusterSnapshot(lb.balancers),
  };
}

/** With a shared store (docs/scale-out.md): this instance, the live ones, and whether the store answers. */
function clusterSnapshot(balancers: readonly Balancer[]): Pick<ManagerSnapshot, 'cluster'> {
  const first = balancers[0];
  const c = first && clusterOf(first);
  if (!c) return {};
  const instances = new Set<string>([c.store.instanceId]);
  for (const b of balancers) for (const x of c.store.counters(b.name)) instances.add(x.instance);
  const store = c.store.target;
  return {
    cluster: {
      instance: c.store.instanceId,
      connected: c.store.connected,
      instances: [...instances].sort(),
      ...(store === undefined ? {} : { store }),
    },
  };
}

export function balancerSnapshot(b: Balancer, readOnly: boolean): BalancerSnapshot {
  return {
    name: b.name,
    id: b.id,
    ...(readOnly ? {} : { nonce: b.nonce }),
    mount: b.mount,
    path: b.path,
    lbmethod: b.lbmethod,
    stickysession: stickyString(b.sticky),
    nofailover: b.nofailover,
    scolonpathdelim: b.scolonpathdelim,
    timeoutMs: b.timeoutMs,
    maxattempts: b.maxAttempts,
    maxattemptsSet: b.maxattemptsSet !== undefined,
    hashkey: hashKeyText(b.hashkey),
    hashbalancefactor: b.hashbalancefactor,
    p2cbias: b.p2cbias,
    ewmadecayMs: b.ewmadecayMs,
    panic: b.panic,
    panicking: [...b.selector.panicking].sort((x, y) => x - y),
    members: { max: b.maxWorkers, used: b.slotsUsed, free: b.maxWorkers - b.slotsUsed },
    workers: b.workers.map((w) => workerSnapshot(b, w)),
    ...discoverySnapshot(b),
  };
}

function discoverySnapshot(b: Balancer): { discovery?: DiscoverySnapshot[] } {
  const d = discoveryOf(b);
  if (!d) return {};
  return {
    discovery: d.groups.map((g) => ({
      kind: g.spec.kind,
      name: g.spec.name,
      state: g.state,
      lastResolution: g.lastResolution === undefined ? null : isoTime(g.lastResolution),
      nextRefresh: g.nextRefresh === undefined ? null : isoTime(g.nextRefresh),
      lastError: g.lastError ?? null,
      workers: g.workers.map((w) => w.name),
    })),
  };
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

export function workerSnapshot(b: Balancer, w: Worker): WorkerSnapshot {
  // Shared store: elected and byte counters are the sums over the instances, with one row each.
  const rows = clusterOf(b)?.rows(b, w);
  const sum = (k: 'elected' | 'transferred' | 'read', own: number): number =>
    rows ? rows.reduce((n, r) => n + r[k], 0) : own;
  const flags = Object.fromEntries(FLAGS.map((f) => [f.letter, w.has(f.bit)])) as WorkerSnapshot['flags'];
  return {
    name: w.name,
    scheme: w.url.protocol.replace(/:$/, ''),
    hostname: w.url.hostname,
    port: w.url.port === '' ? defaultPort(w.url.protocol) : Number(w.url.port),
    route: w.route,
    redirect: w.redirect,
    loadfactor: w.lbfactor / 100,
    lbset: w.lbset,
    status: statusLetters(w.status),
    statusText: statusWords(w.status),
    flags,
    usable: w.isUsable(),
    health: w.has(HC_FAIL) ? 'hcfail' : w.has(IN_ERROR) ? 'error' : 'ok',
    elected: sum('elected', w.elected),
    busy: w.busy,
    lbstatus: b.lbstatus(w),
    transferred: sum('transferred', w.transferred),
    read: sum('read', w.read),
    errors: errorCount(b, w.name),
    lastError: isoTime(w.errorTime),
    retries: w.retries,
    retryMs: w.retryMs,
    timeoutMs: w.timeoutMs,
    connectTimeoutMs: w.connectTimeoutMs,
    max: w.max,
    healthCheck: healthCheckSnapshot(b, w),
    ...(rows ? { instances: rows } : {}),
    ...(w.discovered === undefined ? {} : { discovered: w.discovered }),
  };
}

function healthCheckSnapshot(b: Balancer, w: Worker): HealthCheckSnapshot | null {
  const spec = w.health;
  if (!spec) return null;
  const checker = healthOf(b)?.checker(w);
  const result = checker?.lastResult;
  return {
    method: spec.method,
    intervalMs: spec.intervalMs,
    passes: spec.passes,
    passCount: checker?.counts.passes ?? 0,
    fails: spec.fails,
    failCount: checker?.counts.fails ?? 0,
    uri: appliesTo('hcuri', spec.method) ? spec.uri : null,
    expect: appliesTo('hcexpect', spec.method) ? statusSetText(spec.expect) : null,
    last: checker && result ? { ok: result.ok, reason: result.reason, time: isoTime(checker.lastTime) } : null,
  };
}

/** Clock time as ISO 8601; null for "never" (0) or a time no Date can hold (an injected clock). */
function isoTime(ms: number): string | null {
  if (!(ms > 0) || ms > 8.64e15) return null;
  return new Date(ms).toISOString();
}
