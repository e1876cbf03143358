/**
 * Admin state that outlives a request: what the manager changed and which workers it added.
 * The request path never calls a store; balancers read it at start-up and write it after an edit.
 * Implementations: memory (default), JSON file and Redis come with the manager and scale-out work.
 */
export interface PersistedWorker {
  name: string;
  lbfactor?: number;
  lbset?: number;
  route?: string;
  redirect?: string;
  /** Admin status letters (D S I H R N). */
  status?: string;
}

export interface PersistedBalancer {
  /** Grows with every saved change; concurrent writers resolve by it. */
  version: number;
  lbmethod?: string;
  timeoutMs?: number;
  maxattempts?: number;
  nofailover?: boolean;
  stickysession?: string | null;
  workers: PersistedWorker[];
  /** URLs of workers added at run time, in the order they were added. */
  added: string[];
}

export interface StateStore {
  load(balancer: string): Promise<PersistedBalancer | undefined>;
  save(balancer: string, state: PersistedBalancer): Promise<void>;
  /** Called with state written by another process; returns an unsubscribe function. */
  watch?(balancer: string, onChange: (state: PersistedBalancer) => void): () => void;
  close?(): Promise<void>;
}
