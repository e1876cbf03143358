import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { BalancerConfig } from './config/options.js';
import { validateConfig } from './config/validate.js';
import { Balancer } from './balancer/balancer.js';
import { restoreWithin } from './balancer/startup.js';
import { BalancerError } from './errors.js';
import type { GlobalSpec } from './config/global-spec.js';
import type { StateStore } from './model/store.js';
import { Engines } from './forward/engines.js';
import { BAD_PATH, mapPath } from './proxy/mount.js';
import { handleRequest, internalError, type HandlerDeps } from './proxy/handle.js';
import { handleUpgrade } from './proxy/upgrade.js';
import { rejectUpgrade } from './forward/reject-upgrade.js';
import { respondError } from './proxy/respond.js';
import { log } from './debug.js';
import { watchHealth } from './health/monitor.js';
import { drainWorker } from './health/drain.js';
import { attachCluster } from './cluster/sync.js';
import { announceTransitions } from './health/announce.js';
import { doubledMount } from './proxy/doubled-mount.js';
import { startDiscovery } from './discovery/discovery.js';

export type NextFunction = (err?: unknown) => void;

/** The middleware returned by balancer(): a Connect/Express handler with the balancers attached. */
export interface BalancerMiddleware {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void;
  /** Every balancer, in config order. */
  readonly balancers: readonly Balancer[];
  /** A balancer by name (with or without "balancer://"). */
  get(name: string): Balancer | undefined;
  /**
   * Handles an HTTP Upgrade (WebSocket) request: `server.on('upgrade', lb.upgrade)`. Returns false,
   * leaving the socket alone, when no balancer's mount matches (another handler may take it).
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Subscribes `upgrade` to the server's 'upgrade' event. When it is the server's only upgrade
   * listener, upgrades outside every mount are answered 404 instead of hanging.
   */
  attach<S extends Server>(server: S): S;
  /**
   * Open sockets (in use and idle) to each used worker's host:port, by worker name. Workers at the
   * same host:port share their keep-alive connections, so they show the same count.
   */
  socketCounts(): Map<string, number>;
  /**
   * Stops taking requests (new ones get 503), waits for those in flight up to `timeoutMs`
   * (default 10 s), then closes every pooled worker socket.
   */
  close(timeoutMs?: number): Promise<void>;
  /**
   * Drains one worker: sets its N flag and waits until none of its requests is in flight, up to
   * `timeoutMs` (default 30 s). True when drained; false on the deadline or for an unknown name.
   */
  drain(balancer: string, worker: string, timeoutMs?: number): Promise<boolean>;
  /**
   * Settles once stored admin state is applied, or once `storeTimeout` passed without it (the balancers
   * then run from their configuration); rejects if it could not be applied (e.g. a corrupt state
   * file), or on the timeout with `storeStrict`.
   */
  readonly ready: Promise<void>;
  /** Where admin edits are kept (config.store; memory by default). */
  readonly store: StateStore;
}

/** Builds the balancers from `config` (checked once, here) and returns the middleware. */
export function balancer(config: BalancerConfig): BalancerMiddleware {
  const { global, balancers: specs, warnings } = validateConfig(config);
  for (const w of warnings) global.notices.say('warn', w);
  const balancers = specs.map((s) => new Balancer(s, global.clock, global.random));
  for (const b of balancers) announceTransitions(b, global.notices);
  const engines = new Engines(global);
  // Workers DNS discovery removed leave the connection pools' bookkeeping too.
  for (const b of balancers) b.on('worker-removed', (e) => engines.forget(e.worker));
  // Worker events, slow start, outlier ejection and active checks (lib/health), stopped by close().
  const health = balancers.map((b) => watchHealth(b));
  // Members found in DNS (lib/discovery): their first lookups end before the first request is balanced.
  const discovery = balancers.map((b) => startDiscovery(b, global.notices));
  const firstLookups = Promise.all(discovery.map((d) => d?.firstLookups ?? Promise.resolve()));
  // Each balancer forwards through its engine.
  const depsOf = new Map<Balancer, HandlerDeps>(
    balancers.map((b, i) => [b, { global, forwarder: engines.of(specs[i]!.engine) }]),
  );
  let closed = false;
  // Stored admin state (manager edits, added workers) applies before the first request is balanced.
  let restoring = true;
  let restoreError: unknown;
  // A store shared by several processes (RedisStore) also shares health state (lib/cluster).
  const cluster = attachCluster(global.store, balancers);
  const startup = restoreWithin(global.store, balancers, global.clock, global.storeTimeoutMs);
  const ready = Promise.all([startup.done, firstLookups])
    .then(([end]) => {
      if (end === 'timed-out') storeMissedStartup(global);
      if (end !== 'closed') cluster?.start();
    })
    .then(
      () => {
        restoring = false;
      },
      (err: unknown) => {
        restoring = false;
        restoreError = err;
        log.config('stored admin state not applied: %s', (err as Error).message);
        throw err;
      },
    );
  ready.catch(() => undefined);
  log.config('built %d balancer(s): %s', balancers.length, balancers.map((b) => `${b.id} at ${b.mount}`).join(', '));

  /** The first balancer (config order) whose mount matches, with the worker-side path; BAD_PATH to refuse. */
  const route = (url: string | undefined): { b: Balancer; path: string } | typeof BAD_PATH | undefined => {
    for (const b of balancers) {
      const path = mapPath(b.mount, b.path, url ?? '/');
      if (path === BAD_PATH) return path;
      if (path !== undefined) return { b, path };
    }
    return undefined;
  };

  const middleware = function balancerMiddleware(req: IncomingMessage, res: ServerResponse, next?: NextFunction): void {
    // The loop of route(), without its result object: this runs for every request. req is read
    // as little as possible: under Express each one has a map of its own, which no cache holds.
    const url = req.url ?? '/';
    for (const b of balancers) {
      const path = mapPath(b.mount, b.path, url);
      if (path === undefined) continue;
      if (path === BAD_PATH) {
        respondError(global, req, res, 'ERR_BAD_PATH', 400, 'the request path leaves the mount it names');
        return;
      }
      if (restoring) {
        const again = (): void => middleware(req, res, next);
        void ready.then(again, again);
        return;
      }
      if (restoreError !== undefined) return next ? next(restoreError) : void res.writeHead(503).end();
      if (closed) {
        respondError(global, req, res, 'ERR_CLOSED', 503, 'the balancer is closed');
        return;
      }
      try {
        handleRequest(depsOf.get(b)!, b, path, url, req, res);
      } catch (err) {
        internalError(global, req, res, err);
      }
      return;
    }
    if (next) doubledMount(req, route, global.notices);
    if (next) next();
    else {
      res.statusCode = 404;
      res.end();
    }
  } as BalancerMiddleware;

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const hit = route(req.url);
    if (!hit) return false;
    if (hit === BAD_PATH) {
      rejectUpgrade(socket, 400, 'Bad Request', global.errorHeader ? 'ERR_BAD_PATH' : undefined);
      return true;
    }
    if (closed) {
      rejectUpgrade(socket, 503, 'Service Unavailable', global.errorHeader ? 'ERR_CLOSED' : undefined);
      return true;
    }
    try {
      handleUpgrade(depsOf.get(hit.b)!, hit.b, hit.path, req, socket, head);
    } catch (err) {
      log.forward('internal upgrade error: %s', (err as Error).stack ?? String(err));
      socket.destroy();
    }
    return true;
  };
  const attach = <S extends Server>(server: S): S => {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!upgrade(req, socket, head) && server.listenerCount('upgrade') === 1) rejectUpgrade(socket, 404, 'Not Found');
    });
    return server;
  };

  const byName = new Map(balancers.map((b) => [b.name, b]));
  const find = (name: string): Balancer | undefined => byName.get(name.replace(/^balancer:\/\//, '').toLowerCase());
  Object.defineProperties(middleware, {
    balancers: { value: Object.freeze([...balancers]), enumerable: true },
    get: { value: find },
    socketCounts: { value: () => engines.socketCounts() },
    upgrade: { value: upgrade },
    attach: { value: attach },
    ready: { value: ready },
    store: { value: global.store },
    drain: {
      value: async (name: string, worker: string, timeoutMs?: number): Promise<boolean> => {
        const b = find(name);
        const w = b?.worker(worker);
        return b && w ? drainWorker(b, w, timeoutMs) : false;
      },
    },
    close: {
      value: async (timeoutMs = 10_000): Promise<void> => {
        closed = true;
        for (const b of balancers) b.emit('close');
        // Requests still waiting for the store are answered now (503), not when it answers.
        startup.abandon();
        cluster?.stop();
        for (const d of discovery) d?.stop();
        // No check may start (or keep a socket open) once closing has begun.
        for (const h of health) h.stop();
        // WebSockets live until a side closes; waiting for them would only delay the deadline.
        engines.endTunnels();
        const deadline = global.clock.now() + timeoutMs;
        for (const b of balancers) {
          while (b.busy > 0 && global.clock.now() < deadline) await b.waitForChange(deadline).done;
        }
        engines.close();
        await Promise.all(health.map((h) => h.idle()));
      },
    },
  });
  return middleware;
}

/** The store did not answer within storeTimeout: fail (storeStrict) or say so loudly and run from the configuration. */
function storeMissedStartup(global: GlobalSpec): void {
  const waited = `the store did not load the stored admin state within storeTimeout (${global.storeTimeoutMs} ms)`;
  if (global.storeStrict) throw new BalancerError('ERR_STORE_TIMEOUT', `${waited}; storeStrict is on`, 503);
  const message = `${waited}: the balancers run from their configuration, without stored manager edits`;
  log.config(message);
  process.emitWarning(message, { type: 'ExpressProxyBalancerWarning', code: 'ERR_STORE_TIMEOUT' });
}
