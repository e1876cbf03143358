import type { IncomingMessage } from 'node:http';
import type { WorkerTlsOptions } from './options.js';
import type { HealthCheckSpec, OutlierSpec, SlowStartSpec } from './health-spec.js';
import type { RouteCookieSpec } from '../model/route-cookie.js';
import type { SchedulerSettingsSpec } from './scheduler-options.js';
import type { EngineName } from './engine.js';

/** A member after validation: every value parsed, defaulted and in Apache's internal units. */
export interface MemberSpec {
  /** Worker name as Apache shows it: origin plus base path, e.g. "http://127.0.0.1:8080/app". */
  name: string;
  url: URL;
  /** Base path without a trailing slash ("" for none). */
  basePath: string;
  /** loadfactor × 100 (Apache's lbfactor). */
  lbfactor: number;
  lbset: number;
  route: string;
  redirect: string;
  retryMs: number;
  status: number;
  connectTimeoutMs: number;
  timeoutMs: number;
  max: number;
  /** Most open upgraded connections (WebSockets) to this worker; they do not count against `max`. */
  maxupgrades: number;
  tls: WorkerTlsOptions | undefined;
  /** Active health check; undefined for hcmethod NONE. */
  health?: HealthCheckSpec | undefined;
  /** The DNS name of the discovery group that added this worker; absent for configured members. */
  discovered?: string;
}

/** A DNS-discovered member group after validation (lib/discovery/ resolves it). */
export interface DiscoverySpec {
  /** The member's field path, for logs ("balancers[0].members[1]"). */
  field: string;
  kind: 'dns' | 'srv';
  name: string;
  /** The workers' port ("dns"); undefined for "srv" (each record has its own). */
  port: number | undefined;
  scheme: 'http' | 'https';
  family: 0 | 4 | 6;
  refreshMs: number;
  graceMs: number;
  /** Resolver addresses; undefined: the system's. */
  servers: string[] | undefined;
  /** Every other member option, validated: each worker is this with its own url, name and route. */
  template: MemberSpec;
}

export interface StickyNames {
  /** Cookie name (left of "|"). */
  cookie: string;
  /** URL parameter name (right of "|", or the same name). */
  param: string;
}

export interface BalancerSpec extends SchedulerSettingsSpec {
  name: string;
  mount: string;
  path: string;
  lbmethod: string;
  /** undefined = Apache's default (members − 1, at least 0). */
  maxattempts: number | undefined;
  nofailover: boolean;
  sticky: StickyNames | undefined;
  /** undefined = separator off (the whole value is the route). */
  stickysessionsep: string | undefined;
  scolonpathdelim: boolean;
  engine: EngineName;
  timeoutMs: number;
  failonstatus: ReadonlySet<number>;
  failontimeout: boolean;
  forcerecovery: boolean;
  growth: number;
  nonce: string | undefined;
  /** Passive ejection (own or global setting); absent = off. */
  outlier?: OutlierSpec;
  /** Slow start (own or global setting); absent = off. */
  slowstart?: SlowStartSpec;
  routecookie: RouteCookieSpec | undefined;
  /** Rewrite Location, Content-Location and URI headers from the worker's URL to the mount. */
  proxypassreverse: boolean;
  /** Most open upgraded connections over all members (Infinity = no balancer-wide limit). */
  maxupgrades: number;
  retryon: 'connect' | 'idempotent';
  replay: ((req: IncomingMessage) => boolean) | undefined;
  retrybudget: { percent: number; min: number };
  queue: { size: number; timeoutMs: number };
  members: MemberSpec[];
  /** Member groups found in DNS. */
  discovery: DiscoverySpec[];
}
