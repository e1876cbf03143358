import assert from 'node:assert/strict';

/**
 * Records every uncaught exception and unhandled rejection while a test file runs, so a stray
 * 'error' event (the classic http-proxy crash) fails the test that caused it instead of passing
 * unnoticed or killing the run later.
 */
export class ProcessGuard {
  readonly errors: unknown[] = [];
  readonly #onError = (err: unknown): void => {
    this.errors.push(err);
  };

  constructor() {
    process.on('uncaughtException', this.#onError);
    process.on('unhandledRejection', this.#onError);
  }

  /** Fails (and clears) when anything escaped since the last check. */
  assertClean(): void {
    const seen = this.errors.splice(0);
    assert.deepEqual(
      seen.map((e) => (e instanceof Error ? (e.stack ?? e.message) : String(e))),
      [],
      'uncaught exception or unhandled rejection',
    );
  }

  dispose(): void {
    process.off('uncaughtException', this.#onError);
    process.off('unhandledRejection', this.#onError);
  }
}
