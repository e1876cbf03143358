import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BalancerConfig } from './config/options.js';
import { validateConfig } from './config/validate.js';
import { Balancer } from './core/balancer.js';
import { ProxyEngine } from './forward/http-proxy.js';
import { AgentPool } from './forward/agents.js';
import { mapPath } from './proxy/mount.js';
import { handleRequest, type HandlerDeps } from './proxy/handle.js';
import { respondError } from './proxy/respond.js';
import { log } from './debug.js';

export type NextFunction = (err?: unknown) => void;

/** The middleware returned by balancer(): a Connect/Express handler with the balancers attached. */
export interface BalancerMiddleware {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void;
  /** Every balancer, in config order. */
  readonly balancers: readonly Balancer[];
  /** A balancer by name (with or without "balancer://"). */
  get(name: string): Balancer | undefined;
  /** Open sockets to each worker (in use and idle). */
  socketCounts(): Map<string, number>;
  /**
   * Stops taking requests (new ones get 503), waits for those in flight up to `timeoutMs`
   * (default 10 s), then closes every pooled worker socket.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** Builds the balancers from `config` (checked once, here) and returns the middleware. */
export function balancer(config: BalancerConfig): BalancerMiddleware {
  const { global, balancers: specs } = validateConfig(config);
  const balancers = specs.map((s) => new Balancer(s, global.clock, global.random));
  const agents = new AgentPool(global.keepAliveIdleMs);
  const deps: HandlerDeps = { global, engine: new ProxyEngine(), agents };
  let closed = false;
  log.config('built %d balancer(s): %s', balancers.length, balancers.map((b) => `${b.id} at ${b.mount}`).join(', '));

  const middleware = function balancerMiddleware(req: IncomingMessage, res: ServerResponse, next?: NextFunction): void {
    const url = req.url ?? '/';
    for (const b of balancers) {
      const path = mapPath(b.mount, b.path, url);
      if (path === undefined) continue;
      if (closed) {
        respondError(global, req, res, 'ERR_CLOSED', 503, 'the balancer is closed');
        return;
      }
      handleRequest(deps, b, path, req, res).catch((err: unknown) => {
        // A bug, never an expected outcome: answer if we still can, and let the app see it.
        log.forward('internal error: %s', (err as Error).stack ?? String(err));
        if (!res.headersSent && !res.destroyed) respondError(global, req, res, 'ERR_WORKER_RESPONSE', 502, 'internal balancer error', err);
        else res.destroy();
      });
      return;
    }
    if (next) next();
    else {
      res.statusCode = 404;
      res.end();
    }
  } as BalancerMiddleware;

  const byName = new Map(balancers.map((b) => [b.name, b]));
  Object.defineProperties(middleware, {
    balancers: { value: Object.freeze([...balancers]), enumerable: true },
    get: { value: (name: string) => byName.get(name.replace(/^balancer:\/\//, '').toLowerCase()) },
    socketCounts: { value: () => agents.socketCounts() },
    close: {
      value: async (timeoutMs = 10_000): Promise<void> => {
        closed = true;
        const deadline = global.clock.now() + timeoutMs;
        for (const b of balancers) {
          while (b.busy > 0 && global.clock.now() < deadline) await b.waitForChange(deadline).done;
        }
        agents.destroy();
      },
    },
  });
  return middleware;
}
