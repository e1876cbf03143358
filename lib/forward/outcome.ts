/** How one attempt ended lives with the balancer that accounts it (lib/model/outcome.ts). */
export type { Outcome } from '../model/outcome.js';

/** The errors the balancer raises itself (its timers, responses it cannot pass on), coded like Node's socket errors. */
export function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}
