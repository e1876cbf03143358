import type { Worker } from '../core/worker.js';

/**
 * The candidates of one election, as the selector hands them to its scheduler: the same object
 * for as long as the candidates and their weights stay the same, a new one when they change. A
 * scheduler that keeps a structure over the candidates keys it on this object.
 */
export class CandidateGroup {
  /** The candidates in election order (config order within a tier, spares after regulars). */
  readonly workers: readonly Worker[];
  #index: Map<Worker, number> | undefined;

  constructor(workers: readonly Worker[]) {
    this.workers = workers;
  }

  /** w's position in `workers`, or −1 when it is not a candidate of this group. */
  indexOf(w: Worker): number {
    if (this.#index === undefined) {
      const index = new Map<Worker, number>();
      this.workers.forEach((x, p) => index.set(x, p));
      this.#index = index;
    }
    return this.#index.get(w) ?? -1;
  }
}
