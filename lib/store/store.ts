/** The state store contract lives with the balancer it persists (lib/core/store.ts). */
export * from '../core/store.js';
