import { NO_TIMINGS, type Outcome } from '../../lib/model/outcome.js';

/** A 200 that reached the client, moving `transferred` bytes out and `read` in (timings not measured). */
export function completed200(transferred = 0, read = 0): Outcome {
  return { kind: 'completed', status: 200, phase: 'completed', timings: NO_TIMINGS, transferred, read };
}
