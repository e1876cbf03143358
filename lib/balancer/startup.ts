import type { Balancer } from './balancer.js';
import type { Clock } from '../model/clock.js';
import type { StateStore } from '../model/store.js';
import { applyPersisted } from './admin.js';
import { log } from '../debug.js';

/** How waiting for the stored admin state ended: applied, given up after the timeout, or cut short by close(). */
export type RestoreEnd = 'applied' | 'timed-out' | 'closed';

export interface BoundedRestore {
  /** Settles once the wait ends; rejects when the store failed (before the wait ended). */
  readonly done: Promise<RestoreEnd>;
  /** Stops waiting (close()): `done` settles with 'closed' unless it has already settled. */
  abandon(): void;
}

/**
 * Loads and applies every balancer's stored state, waiting at most `timeoutMs` for the store. A store
 * that never answers (an unreachable server, a hung file system) must not hold every request and
 * close() for ever. State that arrives after the wait ended is not applied: the balancers already
 * run from their configuration, and a late load must not undo manager edits made since.
 */
export function restoreWithin(
  store: StateStore,
  balancers: readonly Balancer[],
  clock: Clock,
  timeoutMs: number,
): BoundedRestore {
  let ended: RestoreEnd | 'failed' | undefined;
  let resolve!: (end: RestoreEnd) => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<RestoreEnd>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const end = (how: RestoreEnd | 'failed'): boolean => {
    if (ended !== undefined) return false;
    ended = how;
    clock.clearTimeout(timer);
    return true;
  };
  const timer = clock.setTimeout(() => {
    if (end('timed-out')) resolve('timed-out');
  }, timeoutMs);
  const waiting = (): boolean => ended === undefined;
  restoreBalancers(store, balancers, waiting).then(
    () => {
      if (end('applied')) resolve('applied');
      else log.config('stored admin state arrived after the start-up wait ended: not applied');
    },
    (err: unknown) => {
      if (end('failed')) reject(err);
      else log.config('stored admin state failed to load after the start-up wait ended: %s', (err as Error).message);
    },
  );
  return {
    done,
    abandon: () => {
      if (end('closed')) resolve('closed');
    },
  };
}

/** Applies each balancer's stored state in turn while `waiting()`; rejects if the store cannot be read. */
async function restoreBalancers(
  store: StateStore,
  balancers: readonly Balancer[],
  waiting: () => boolean,
): Promise<void> {
  for (const b of balancers) {
    const state = await store.load(b.name);
    if (!waiting()) return;
    if (state) {
      applyPersisted(b, state);
      log.config('%s: applied stored admin state (version %d)', b.id, state.version);
    }
  }
}
