import type { Clock } from '../model/clock.js';
import type { Measures, Phase, Timings } from '../model/outcome.js';

/**
 * The points one attempt reached and when, on the balancer's clock. Engines mark them as they
 * happen; measures() reads them once, when the attempt settles.
 */
export class AttemptTimer {
  readonly #clock: Clock;
  readonly #start: number;
  #connect: number | undefined;
  #firstByte: number | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#start = clock.now();
  }

  /** A connection is ready to carry the request (only the first call counts). */
  connected(): void {
    this.#connect ??= this.#clock.now() - this.#start;
  }

  /** The worker's response head arrived (only the first call counts). */
  firstByte(): void {
    this.#firstByte ??= this.#clock.now() - this.#start;
  }

  get hasConnected(): boolean {
    return this.#connect !== undefined;
  }

  timings(): Timings {
    return { connect: this.#connect, firstByte: this.#firstByte, total: this.#clock.now() - this.#start };
  }

  /** How far the attempt got (`completed` when the whole response reached the client), with `bytes`. */
  measures(completed: boolean, transferred: number, read: number): Measures {
    let phase: Phase;
    if (completed) phase = 'completed';
    else if (this.#firstByte !== undefined) phase = 'response-started';
    else if (this.#connect !== undefined) phase = 'sent';
    else phase = 'not-connected';
    return { phase, timings: this.timings(), transferred, read };
  }
}
