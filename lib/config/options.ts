import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, RandomSource } from '../model/clock.js';
import type { BalancerError } from '../errors.js';
import type { StateStore } from '../model/store.js';
import type { RequestContext } from '../model/context.js';
import type { Logger } from '../logger.js';
import type { EngineName } from './engine.js';

/**
 * A duration: a number of milliseconds, or a string with a unit ("500ms", "2s", "1m").
 * A bare numeric string is refused: Apache's unit is seconds and Node's is milliseconds, so the
 * unit must be spelled out where it could be misread.
 */
export type Duration = number | string;

/** TLS settings for an https:// worker. */
export interface WorkerTlsOptions {
  /** Trusted CA certificates (PEM). Defaults to Node's bundle. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key (PEM) for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** SNI and certificate name to verify; defaults to the worker's host name. */
  servername?: string;
  /** Verify the worker's certificate (default true). */
  rejectUnauthorized?: boolean;
}

/** One BalancerMember. Names are Apache's; see docs/options.md. */
export interface MemberOptions {
  /** http:// or https:// origin with an optional base path, e.g. "http://10.0.0.1:8080/app". */
  url: string;
  /** Relative weight 1..100, two decimals (Apache loadfactor). Default 1. */
  loadfactor?: number;
  /** Failover tier 0..99; lower tiers are used first. Default 0. */
  lbset?: number;
  /** Sticky route id matched against the session value's route. */
  route?: string;
  /** Route to follow when this worker is unusable for a sticky request. */
  redirect?: string;
  /** How long a worker in error is skipped. Default 60 s; 0 = retry at once. */
  retry?: Duration;
  /** Initial status flags in Apache syntax: "+H", "+D +S", "DH" (letters D S I H R N E). */
  status?: string;
  /** Connect timeout (Apache connectiontimeout). Default: 10 s, or the response timeout if that is shorter. */
  connectiontimeout?: Duration;
  /** Response timeout: socket inactivity while waiting for or reading the answer (Apache timeout). Default 300 s. */
  timeout?: Duration;
  /** Most requests in flight (and sockets open) to this worker at once (Apache max); more wait in the balancer's queue. Default 256. */
  max?: number;
  /** Most WebSocket (upgraded) connections open to this worker at once; they take no `max` slot. Beyond it an upgrade goes to another worker, else 503. 0..1000000, default 1024. */
  maxupgrades?: number;
  /** TLS options for https:// workers. */
  tls?: WorkerTlsOptions;
  /** Active health check (Apache hcmethod): NONE (default), TCP, OPTIONS, HEAD, GET, OPTIONS11, HEAD11, GET11. See docs/health.md. */
  hcmethod?: string;
  /** Time between two checks of this member (Apache hcinterval; milliseconds or "30s"). Default 30 s, at least 100 ms. */
  hcinterval?: Duration;
  /** Consecutive passing checks that clear the health flag C and the error flag E (Apache hcpasses). Default 1. */
  hcpasses?: number;
  /** Consecutive failing checks that set the health flag C (Apache hcfails). Default 1. */
  hcfails?: number;
  /** Path of the HEAD/GET check, joined to the member's base path (Apache hcuri). Default "/". */
  hcuri?: string;
  /** Statuses that pass: [200, 204], "200,204" or "200-299". Default 200-399 (Apache without hcexpr). */
  hcexpect?: number[] | string;
  /** The GET check's body must contain this string or match this RegExp. */
  hcbody?: string | RegExp;
  /** Deadline for one whole check (connect, answer, body). Default 5 s. */
  hctimeout?: Duration;
  /** Keep the member out of traffic (flag C) until its first check, run at start, passes. Default false. */
  hcbeforetraffic?: boolean;
}

/**
 * A group of members found in DNS (see docs/discovery.md): one worker per address (A/AAAA) or per SRV
 * target and port, each with the other member options given here. Re-resolved on the record's TTL,
 * at most every `refresh`.
 */
export interface DiscoveredMemberOptions extends Omit<MemberOptions, 'url' | 'route'> {
  /** "dns": A/AAAA records of `name`; "srv": SRV records of `name` (priority → lbset, weight → loadfactor). */
  discover: 'dns' | 'srv';
  /** The DNS name to resolve, e.g. "api.internal" or "_http._tcp.api.internal". */
  name: string;
  /** The workers' port (required for "dns"; "srv" records carry their own). */
  port?: number;
  /** The workers' scheme. Default "http". */
  scheme?: 'http' | 'https';
  /** Address family for "dns" and for SRV targets: 4 (A), 6 (AAAA) or 0 (both). Default 0. */
  family?: 0 | 4 | 6;
  /** Longest time between two resolutions (shorter when the record's TTL is). Default 30 s. */
  refresh?: Duration;
  /** DNS servers to ask ("127.0.0.1", "127.0.0.1:5353", "[::1]:53"). Default: the system's. */
  servers?: string[];
  /** How long an empty answer after a good one keeps the last workers, as an outage would. Default 60 s. */
  grace?: Duration;
}

/** Passive ejection (outlier detection), see docs/health.md. `true` = all defaults. */
export interface OutlierOptions {
  /** Failed attempts in a row that eject a worker (2..1000, default 5). One slow request never ejects. */
  consecutiveFailures?: number;
  /** Worker statuses that count as failures: [500, 503], "500,503", "5xx" or "500-599". Default "5xx". */
  failureStatuses?: number[] | string;
  /** First ejection time; the n-th ejection lasts n times this. Default 30 s. */
  baseEjectionTime?: Duration;
  /** Longest ejection. Default 300 s. */
  maxEjectionTime?: Duration;
  /** Most workers, in percent of the balancer's, out for health reasons at once (0..100, default 50). */
  maxEjectionPercent?: number;
}

/** Slow start, see docs/health.md. A Duration alone is the window with the other defaults. */
export interface SlowStartOptions {
  /** How long the weight takes to reach full. */
  window: Duration;
  /** Weight at the start of the ramp in percent of the full weight (1..100, default 10). */
  minWeightPercent?: number;
  /** Curve exponent (0.1..10, default 1 = linear; higher gives more traffic early). */
  aggression?: number;
}

/** The balancer-set route cookie (Apache needs mod_headers for this; see docs/sticky-sessions.md). */
export interface RouteCookieOptions {
  /** Cookie name. Default "ROUTEID" (never the app's session cookie: name it explicitly to share one). */
  name?: string;
  /** Default "/". */
  path?: string;
  domain?: string;
  /** Lifetime; default: a session cookie. */
  maxAge?: Duration;
  /** Default true. */
  httpOnly?: boolean;
  /** Default false. */
  secure?: boolean;
  /** Default "Lax". */
  sameSite?: 'Strict' | 'Lax' | 'None';
  /**
   * Signing key (at least 16 characters), or several: the first signs, all verify, so keys can be
   * rotated. With a key, a cookie whose signature does not match is ignored (treated as no route).
   */
  secret?: string | string[];
}

/** One balancer (a <Proxy balancer://name> section plus its ProxyPass). */
export interface BalancerOptions {
  /** balancer://name; lower-cased like Apache. */
  name: string;
  /** Path prefix that sends requests here ("/app" matches /app and /app/…, not /apple). */
  mount: string;
  /** Path on the workers the mount maps to (ProxyPass "/app" "balancer://name/path"). Default "/". */
  path?: string;
  /** Scheduler name: byrequests (default), bytraffic, bybusyness, p2c, ewma, hash or any registered one. */
  lbmethod?: string;
  /** hash: the request's key: "ip" (default), "path", "uri", "header:NAME", "cookie:NAME" or "query:NAME". */
  hashkey?: string;
  /** hash: no worker takes more than this percent of its share of requests in flight; 0 = no bound. Default 125. */
  hashbalancefactor?: number;
  /** p2c (and hash without a key): how much requests in flight count, 0..10. Default 1. */
  p2cbias?: number;
  /** ewma: how fast the latency average forgets. Default "10s". */
  ewmadecay?: Duration;
  /**
   * Percent: when fewer than this share of a tier's workers are usable, spread over the ones in error or
   * failing health checks too. 0 (default) = off.
   */
  panic?: number;
  /** Extra attempts after the first when a worker cannot be reached. Default members − 1. */
  maxattempts?: number;
  /** Answer 503 rather than move a sticky request whose worker is unusable. Default false. */
  nofailover?: boolean;
  /** Session cookie / URL parameter name, or "COOKIE|URLPARAM". */
  stickysession?: string;
  /** Separator between session id and route: one character, or false for the whole value. Default ".". */
  stickysessionsep?: string | false;
  /** Let ";" end a URL sticky value too. Default false. */
  scolonpathdelim?: boolean;
  /** The engine that forwards this balancer's HTTP requests: "http-proxy" or "undici". Default: the global `engine`. */
  engine?: EngineName;
  /** Wait this long for a usable worker before answering 503. Default 0 (no wait). */
  timeout?: Duration;
  /** Backend statuses that put the worker in error (the client still gets the response). */
  failonstatus?: number[] | string;
  /** Put the worker in error when its response times out. Default false. */
  failontimeout?: boolean;
  /** When every worker is in error, clear all errors rather than refuse. Default true. */
  forcerecovery?: boolean;
  /** Free slots for workers added at run time (manager). 0..1000, default 0. */
  growth?: number;
  /** The manager's CSRF token for this balancer; random by default. */
  nonce?: string;
  /** Passive ejection for this balancer (overrides the global setting); false = off. */
  outlier?: OutlierOptions | boolean;
  /** Slow start for this balancer (overrides the global setting); false = off. */
  slowstart?: SlowStartOptions | Duration | false;
  /**
   * Let the balancer set its own route cookie whenever the route changed (no backend change
   * needed); `true` for the defaults. Optionally HMAC-signed so clients cannot pick a worker.
   */
  routecookie?: boolean | RouteCookieOptions;
  /**
   * When a request is sent again to another worker. "connect" (default, Apache): only if no byte of
   * it reached a worker. "idempotent" (nginx): also GET, HEAD, OPTIONS, PUT, DELETE, TRACE when the
   * worker failed (reset, closed, timed out, answered garbage) before any response byte was sent on.
   */
  retryon?: 'connect' | 'idempotent';
  /** Per-route opt-in: requests for which this returns true may be re-sent like idempotent ones (e.g. a POST with an idempotency key). */
  replay?: (req: IncomingMessage) => boolean;
  /** Retries in flight are capped at max(min, percent % of requests in flight), to stop retry storms. Default 20 %, min 3. */
  retrybudget?: { percent?: number; min?: number };
  /** Requests wait here when every candidate worker is at its `max`. Default size 1024; timeout: the balancer timeout if set, else 30 s. */
  queue?: { size?: number; timeout?: Duration };
  /** Most WebSocket (upgraded) connections open over all members at once; beyond it an upgrade gets 503. Default: no balancer-wide limit. */
  maxupgrades?: number;
  /** Rewrite Location, Content-Location and URI response headers that point at the worker to point at the mount (Apache ProxyPassReverse). Default false. */
  proxypassreverse?: boolean;
  /** Fixed members (a URL each) and groups of members found in DNS. */
  members: (MemberOptions | DiscoveredMemberOptions)[];
}

export interface ErrorInfo {
  error: BalancerError;
  /** The status the balancer would send: 502, 503 or 504. */
  status: number;
  context: RequestContext | undefined;
}

export interface BalancerConfig {
  balancers: BalancerOptions[];
  /**
   * The engine that forwards HTTP requests, for balancers that set none: "http-proxy" (http-proxy-3
   * over node:http, the default) or "undici" (a keep-alive undici Pool per worker). WebSocket
   * upgrades always go through "http-proxy".
   */
  engine?: EngineName;
  /** Forward the client's Host header instead of the worker's (ProxyPreserveHost). Default false. */
  preserveHost?: boolean;
  /** X-Forwarded-Server value (Apache: ServerName). Default: this machine's host name. */
  serverName?: string;
  /**
   * Add X-Forwarded-For/-Host/-Server like Apache, appended to what the client sent (true, the
   * default); `'edge'`, for a balancer that clients reach directly: replace them with this
   * connection's values, set X-Forwarded-Proto and drop the client's Forwarded; false: add none.
   */
  xForwarded?: boolean | 'edge';
  /** Largest request body kept for replay on failover. Larger bodies stream and do not fail over. Default 1 MiB. */
  replayBufferBytes?: number;
  /** Send the request context as X-Balancer-* response headers. Default false. */
  exposeHeaders?: boolean;
  /** Render error responses yourself; called once, before anything was sent to the client. */
  onError?: (info: ErrorInfo, req: IncomingMessage, res: ServerResponse) => void;
  /** Longest pause between two chunks of a request body before the client gets 408. Default 30 s. */
  bodyTimeout?: Duration;
  /** Idle time after which a pooled worker socket is closed (keep below the workers' keep-alive). Default 4 s. */
  keepAliveIdle?: Duration;
  /** Where admin edits are kept (memory by default). */
  store?: StateStore;
  /** Longest wait for the store's admin state at start-up; then the balancers run from this configuration. Default 10 s. */
  storeTimeout?: Duration;
  /** Fail instead (`lb.ready` rejects, requests get 503 `ERR_STORE_TIMEOUT`) when the store misses storeTimeout. Default false. */
  storeStrict?: boolean;
  /** Passive ejection for every balancer that does not set its own. Default off. */
  outlier?: OutlierOptions | boolean;
  /** Slow start for every balancer that does not set its own. Default off. */
  slowstart?: SlowStartOptions | Duration | false;
  /**
   * Where warnings about likely mistakes (each said once) and worker state changes go: an object with
   * `warn`, `info` and `error`. Default `console`; `false` says nothing.
   */
  logger?: Logger | false;
  /** Add `X-Balancer-Error: <code>` to the answers the balancer sends itself. Default true. */
  errorHeader?: boolean;
  /** Injected time (tests). */
  clock?: Clock;
  /** Injected randomness (tests). */
  random?: RandomSource;
}
