import type { Candidate } from './types.js';

/**
 * The candidates of one election, as the selector hands them to its scheduler: the same object
 * for as long as the candidates and their weights stay the same, a new one when they change. A
 * scheduler that keeps a structure over the candidates keys it on this object.
 */
export class CandidateGroup<C extends Candidate = Candidate> {
  /** The candidates in election order (config order within a tier, spares after regulars). */
  readonly workers: readonly C[];
  #index: Map<Candidate, number> | undefined;

  constructor(workers: readonly C[]) {
    this.workers = workers;
  }

  /** w's position in `workers`, or −1 when it is not a candidate of this group. */
  indexOf(w: Candidate): number {
    if (this.#index === undefined) {
      const index = new Map<Candidate, number>();
      this.workers.forEach((x, p) => index.set(x, p));
      this.#index = index;
    }
    return this.#index.get(w) ?? -1;
  }
}
