import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, RandomSource } from '../model/clock.js';
import type { StateStore } from '../model/store.js';
import type { ErrorInfo } from './options.js';
import type { OutlierSpec, SlowStartSpec } from './health-spec.js';
import type { Notices } from '../logger.js';
import type { EngineName } from './engine.js';

/** Settings shared by every balancer of one middleware, after validation. */
export interface GlobalSpec {
  /** The engine of balancers that name none. */
  engine: EngineName;
  preserveHost: boolean;
  serverName: string;
  xForwarded: boolean | 'edge';
  replayBufferBytes: number;
  exposeHeaders: boolean;
  onError: ((info: ErrorInfo, req: IncomingMessage, res: ServerResponse) => void) | undefined;
  keepAliveIdleMs: number;
  bodyTimeoutMs: number;
  store: StateStore;
  storeTimeoutMs: number;
  storeStrict: boolean;
  clock: Clock;
  random: RandomSource;
  /** Defaults for balancers that set none (undefined = off). */
  outlier: OutlierSpec | undefined;
  slowstart: SlowStartSpec | undefined;
  /** The `logger` option, prefixing and de-duplicating. */
  notices: Notices;
  errorHeader: boolean;
}
