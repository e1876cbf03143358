/** Time and randomness are injected so schedules and retry windows can be tested exactly. */
export interface Clock {
  /** Milliseconds, monotonic enough for retry windows (Date.now() by default). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Returns a float in [0, 1). */
export type RandomSource = () => number;
