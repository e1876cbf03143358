/**
 * The health specs are configuration and live in config/health-spec.ts; this re-export remains only
 * while modules of core/ still import them from here.
 */
export type { HealthCheckSpec, OutlierSpec, SlowStartSpec } from '../config/health-spec.js';
