/** Health settings live with the workers and balancers they configure (lib/core/health-spec.ts). */
export * from '../core/health-spec.js';
