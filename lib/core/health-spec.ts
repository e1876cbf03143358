/** Health settings after validation (lib/health/validate.ts): every value parsed, defaulted, in ms. */

/**
 * Check methods. The HTTP/1.0 forms are what Apache's mod_proxy_hcheck sends (OPTIONS is "OPTIONS *");
 * the *11 forms send HTTP/1.1 (Apache 2.4.55+).
 */
export const HC_METHODS = ['NONE', 'TCP', 'OPTIONS', 'HEAD', 'GET', 'OPTIONS11', 'HEAD11', 'GET11'] as const;
export type HcMethod = (typeof HC_METHODS)[number];

/** One member's active health check. Absent (undefined) when hcmethod is NONE. */
export interface HealthCheckSpec {
  method: Exclude<HcMethod, 'NONE'>;
  intervalMs: number;
  passes: number;
  fails: number;
  /** Request target for HEAD/GET, already joined with the member's base path ("/health"). */
  uri: string;
  /** Statuses that pass (default 200..399, Apache's rule without hcexpr). */
  expect: ReadonlySet<number>;
  /** Body must contain this string or match this RegExp (GET only). */
  body: string | RegExp | undefined;
  timeoutMs: number;
  /** Flag the member C until its first check passes, and run that check at once. */
  beforeTraffic: boolean;
}

/** Passive ejection (Envoy's outlier detection, consecutive failures). */
export interface OutlierSpec {
  consecutiveFailures: number;
  /** Worker answers that count as failures (connect failures, resets and timeouts always do). */
  failureStatuses: ReadonlySet<number>;
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** At most this share of the balancer's workers may be out for health reasons at once. */
  maxEjectionPercent: number;
}

/** Weight ramp after a worker is added, enabled or recovers (Envoy slow_start_config). */
export interface SlowStartSpec {
  windowMs: number;
  /** Weight at the start of the ramp, in percent of the full weight. */
  minWeightPercent: number;
  /** Curve exponent: 1 = linear, > 1 = faster start (Envoy aggression). */
  aggression: number;
}
