export { balancer } from './middleware.js';
export type { BalancerMiddleware, NextFunction } from './middleware.js';
export type {
  BalancerConfig,
  BalancerOptions,
  MemberOptions,
  DiscoveredMemberOptions,
  WorkerTlsOptions,
  Duration,
  ErrorInfo,
} from './config/options.js';
export { Balancer } from './balancer/balancer.js';
export type { WorkerStateEvent, AttemptEvent, BalancerEvents } from './balancer/balancer.js';
export type { Outcome } from './forward/outcome.js';
export type { RequestEvent, AttemptRecord, RequestTracer, RequestTrace, AttemptTrace } from './model/request-event.js';
export { Worker } from './core/worker.js';
export type { RequestContext } from './model/context.js';
export { resolveSticky } from './model/sticky.js';
export type { StickyHit, StickyOptions } from './model/sticky.js';
export { selectWorker } from './balancer/select.js';
export type { Selection } from './balancer/select.js';
export { FLAGS, statusLetters, statusWords, isUsableStatus } from './model/status.js';
export type { StatusLetter } from './model/status.js';
export type { Clock, RandomSource } from './model/clock.js';
export { registerScheduler, getScheduler, listSchedulers } from './schedulers/registry.js';
export { defineScheduler } from './schedulers/types.js';
export type { Candidate, Scheduler, SchedulerContext, SchedulerFactory } from './schedulers/types.js';
export { BalancerError, ConfigError, ERROR_CODES, ERRORS, errorDocs } from './errors.js';
export type { ErrorCode, ErrorClass, ErrorEntry, CodeOf } from './errors.js';
export { MemoryStore } from './store/memory-store.js';
export type { StateStore, PersistedBalancer, PersistedWorker } from './model/store.js';
export { managerRouter } from './manager/router.js';
export type { ManagedBalancers } from './manager/router.js';
export { ManagerError } from './manager/types.js';
export type {
  ManagerOptions,
  ManagerRouter,
  ManagerSnapshot,
  BalancerSnapshot,
  WorkerSnapshot,
  AuditEvent,
  ManagerErrorCode,
} from './manager/types.js';
export type { ChangeSet, WorkerEdit, BalancerEdit, AdminLetter } from './balancer/admin.js';
export { FileStore, StoreError } from './store/file-store.js';
export type { StoreErrorCode } from './store/file-store.js';
export { RedisStore, RedisStoreError } from './store/redis-store.js';
export type { RedisStoreOptions, RedisStoreErrorCode } from './store/redis-store.js';
export type { SharedStateStore, SharedWorkerState, InstanceCounters } from './model/store.js';
export { isSharedStore } from './model/store.js';
export { ClusterSync, clusterOf } from './cluster/sync.js';
export type { InstanceRow } from './cluster/sync.js';
export { watchHealth, healthOf, BalancerHealth } from './health/monitor.js';
export { HealthChecker } from './health/checker.js';
export { OutlierDetector } from './health/outlier.js';
export { drainWorker } from './health/drain.js';
export { WORKER_EVENTS, onWorkerEvents } from './health/events.js';
export type { WorkerEvent, WorkerEventName, WorkerEvents } from './health/events.js';
export type { CheckResult } from './health/result.js';
export type { HealthCheckSpec, OutlierSpec, SlowStartSpec, HcMethod } from './config/health-spec.js';
export type { OutlierOptions, SlowStartOptions } from './config/options.js';
export type { Logger } from './logger.js';
export { metricsHandler } from './observe/metrics.js';
export type { MetricsHandler, MetricsOptions, MetricsRegistry, MetricsSource } from './observe/metrics.js';
export { traceRequests } from './observe/tracing.js';
export type { TracingOptions, RequestTracing } from './observe/tracing.js';
export { ObserveError } from './observe/load.js';
export type { ObserveErrorCode } from './observe/load.js';
export { fromApacheConfig } from './apache/import.js';
export type { ApacheImport, ApacheImportOptions, ApacheWarning, ApacheServerSettings } from './apache/types.js';
