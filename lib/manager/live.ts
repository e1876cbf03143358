import type { AttemptEvent, Balancer } from '../balancer/balancer.js';
import type { Outcome } from '../model/outcome.js';

/** Five minutes in 5-second buckets. */
export const BUCKET_MS = 5000;
export const BUCKETS = 60;

/** Latency histogram edges in ms: 0.5 × √2ⁿ up to ~100 s; a p50/p99 is the edge its bucket ends at. */
const EDGES = Array.from({ length: 36 }, (_, n) => Math.round(500 * Math.SQRT2 ** n) / 1000);

/** One worker's last five minutes: requests, errors and a latency histogram per bucket. */
class WorkerSeries {
  readonly requests = new Uint32Array(BUCKETS);
  readonly errors = new Uint32Array(BUCKETS);
  readonly latency = new Uint32Array(BUCKETS * (EDGES.length + 1));

  clear(slot: number): void {
    this.requests[slot] = 0;
    this.errors[slot] = 0;
    this.latency.fill(0, slot * (EDGES.length + 1), (slot + 1) * (EDGES.length + 1));
  }

  add(slot: number, failed: boolean, ms: number | undefined): void {
    this.requests[slot]!++;
    if (failed) this.errors[slot]!++;
    if (ms === undefined) return;
    let i = 0;
    while (i < EDGES.length && ms > EDGES[i]!) i++;
    this.latency[slot * (EDGES.length + 1) + i]!++;
  }

  quantile(slot: number, q: number): number | null {
    const base = slot * (EDGES.length + 1);
    let total = 0;
    for (let i = 0; i <= EDGES.length; i++) total += this.latency[base + i]!;
    if (total === 0) return null;
    let seen = 0;
    for (let i = 0; i <= EDGES.length; i++) {
      seen += this.latency[base + i]!;
      if (seen >= q * total) return EDGES[Math.min(i, EDGES.length - 1)]!;
    }
    return null;
  }
}

/** A worker's series oldest first: per-second rates and latency quantiles in ms (null: no sample). */
export interface Series {
  requestsPerSec: number[];
  errorsPerSec: number[];
  p50: (number | null)[];
  p99: (number | null)[];
}

/** Attempts that count as errors: no response, a cut response, or a 5xx from the worker. */
function isError(o: Outcome): boolean {
  if (o.kind === 'completed') return o.status >= 500;
  return o.kind !== 'client-aborted';
}

/** How long the attempt took; none for one that never reached a worker. */
function latencyOf(o: Outcome): number | undefined {
  return o.phase === 'not-connected' ? undefined : o.timings.total;
}

/**
 * This process's last five minutes per worker of one balancer, from its 'attempt' events. Memory is
 * fixed per worker; a bucket is cleared when time comes round to it again.
 */
export class LiveStats {
  readonly #balancer: Balancer;
  readonly #workers = new Map<string, WorkerSeries>();
  /** The newest bucket written or read, as an absolute bucket number. */
  #head: number;

  constructor(balancer: Balancer) {
    this.#balancer = balancer;
    this.#head = Math.floor(balancer.clock.now() / BUCKET_MS);
    balancer.on('attempt', this.#onAttempt);
  }

  stop(): void {
    this.#balancer.off('attempt', this.#onAttempt);
  }

  readonly #onAttempt = (e: AttemptEvent): void => {
    const slot = this.#advance(e.time);
    let s = this.#workers.get(e.worker.name);
    if (!s) this.#workers.set(e.worker.name, (s = new WorkerSeries()));
    s.add(slot, isError(e.outcome), latencyOf(e.outcome));
  };

  /** Moves the head to `time`'s bucket, clearing the buckets passed over; returns that bucket's slot. */
  #advance(time: number): number {
    const bucket = Math.floor(time / BUCKET_MS);
    if (bucket > this.#head) {
      const from = Math.max(this.#head + 1, bucket - BUCKETS + 1);
      for (let b = from; b <= bucket; b++) for (const s of this.#workers.values()) s.clear(b % BUCKETS);
      this.#head = bucket;
    }
    return Math.max(bucket, this.#head - BUCKETS + 1) % BUCKETS;
  }

  /** The worker's series up to now, oldest bucket first (the newest one is still filling). */
  series(worker: string): Series {
    this.#advance(this.#balancer.clock.now());
    const s = this.#workers.get(worker);
    const out: Series = { requestsPerSec: [], errorsPerSec: [], p50: [], p99: [] };
    for (let b = this.#head - BUCKETS + 1; b <= this.#head; b++) {
      const slot = ((b % BUCKETS) + BUCKETS) % BUCKETS;
      out.requestsPerSec.push(s ? s.requests[slot]! / (BUCKET_MS / 1000) : 0);
      out.errorsPerSec.push(s ? s.errors[slot]! / (BUCKET_MS / 1000) : 0);
      out.p50.push(s ? s.quantile(slot, 0.5) : null);
      out.p99.push(s ? s.quantile(slot, 0.99) : null);
    }
    return out;
  }
}

const stats = new WeakMap<Balancer, LiveStats>();

/** Starts the series (once per balancer; managerRouter calls it, so they start with the router). */
export function trackLive(b: Balancer): void {
  if (!stats.has(b)) stats.set(b, new LiveStats(b));
}

export function liveStats(b: Balancer): LiveStats | undefined {
  return stats.get(b);
}
