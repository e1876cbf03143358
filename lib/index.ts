export { balancer } from './middleware.js';
export type { BalancerMiddleware, NextFunction } from './middleware.js';
export type {
  BalancerConfig,
  BalancerOptions,
  MemberOptions,
  WorkerTlsOptions,
  Duration,
  ErrorInfo,
} from './config/options.js';
export { Balancer } from './core/balancer.js';
export type { WorkerStateEvent, AttemptEvent, BalancerEvents } from './core/balancer.js';
export type { Outcome } from './forward/outcome.js';
export { Worker } from './core/worker.js';
export type { RequestContext } from './core/context.js';
export { resolveSticky } from './core/sticky.js';
export type { StickyHit, StickyOptions } from './core/sticky.js';
export { selectWorker } from './core/select.js';
export type { Selection } from './core/select.js';
export { FLAGS, statusLetters, statusWords, isUsableStatus } from './core/status.js';
export type { StatusLetter } from './core/status.js';
export type { Clock, RandomSource } from './core/clock.js';
export { registerScheduler, getScheduler, listSchedulers } from './schedulers/registry.js';
export { defineScheduler } from './schedulers/types.js';
export type { Scheduler, SchedulerContext, SchedulerFactory } from './schedulers/types.js';
export { BalancerError, ConfigError, ERROR_CODES, ERRORS, errorDocs } from './errors.js';
export type { ErrorCode, ErrorClass, ErrorEntry, CodeOf } from './errors.js';
export { MemoryStore } from './store/memory-store.js';
export type { StateStore, PersistedBalancer, PersistedWorker } from './store/store.js';
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
export type { ChangeSet, WorkerEdit, BalancerEdit, AdminLetter } from './core/admin.js';
export { FileStore, StoreError } from './store/file-store.js';
export type { StoreErrorCode } from './store/file-store.js';
export { RedisStore, RedisStoreError } from './store/redis-store.js';
export type { RedisStoreOptions, RedisStoreErrorCode } from './store/redis-store.js';
export type { SharedStateStore, SharedWorkerState, InstanceCounters } from './store/store.js';
export { isSharedStore } from './store/store.js';
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
export { fromApacheConfig } from './apache/import.js';
export type { ApacheImport, ApacheImportOptions, ApacheWarning, ApacheServerSettings } from './apache/types.js';
