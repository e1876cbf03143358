/**
 * The only module that imports the engine, http-proxy-3 (the maintained continuation of
 * http-proxy, same API). One ProxyServer per middleware, fixed listeners, the per-call error
 * callback always given (so no 'error' event can go unhandled), and the response handled by
 * Exchange (selfHandleResponse) so status-based decisions, cookies and header filtering happen
 * before anything reaches the client.
 */
import { createProxyServer, type ServerOptions } from 'http-proxy-3';
import { ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BodySource } from './body.js';
import { exchangeOf, type Exchange } from './exchange.js';
import type { Worker } from '../core/worker.js';
import { log } from '../debug.js';
import { workerPath } from './worker-path.js';

const kUpgrade = Symbol('express-proxy-balancer.upgrade');
type WithUpgrade = IncomingMessage & { [kUpgrade]?: UpgradeHooks };

/**
 * Per-call options carry their exchange: the engine copies them and hands the copy to 'proxyReq',
 * so no property has to be added to req (whose prototype Express has replaced).
 */
type CallOptions = Omit<ServerOptions, 'buffer'> & {
  exchange?: Exchange;
  /** The engine's `buffer`: it only calls pipe() on it, so any BodySource will do. */
  buffer?: BodySource;
  /** The request target the worker must see (see ProxyEngine's 'proxyReq' listener). */
  path: string;
};

export interface UpgradeHooks {
  /** The upgrade request to the worker was created (arm timers, watch for the 101). */
  onProxyReq(proxyReq: ClientRequest): void;
  /** The upgrade failed; the engine ends the client socket right after this returns. */
  onError(err: Error): void;
}

/**
 * What the engine's `stream` pass reads from a request (the only pass kept): method, url and
 * headers to build the worker request, the socket to tell a client reset from a worker error, and
 * on() for its 'aborted' and 'error' listeners. It gets this instead of the client's request, so
 * the app's req is never touched: under Express each req has a map of its own (its prototype is
 * replaced), where every property read or write misses the engine's caches. The listeners are not
 * needed: the exchange sees the client leave on its socket, and an IncomingMessage emits 'error'
 * only when someone listens for it.
 */
class EngineRequest {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    readonly socket: Socket,
    /** The attempt this request belongs to: the engine hands this object back to its error callback. */
    readonly exchange: Exchange,
  ) {}

  on(): this {
    return this;
  }
}

/** The engine's error callback for web requests: one function for all, finding the exchange on its request. */
function onEngineError(err: Error, req: IncomingMessage): void {
  (req as unknown as EngineRequest).exchange.onError(err);
}

/**
 * The engine's target for a worker. No `pathname`: with `toProxy` the engine then sends the
 * request's url as it is (workerPath() built it), rather than re-parsing it as a WHATWG URL,
 * which would resolve dot segments and re-encode characters after the mount checks.
 */
interface Target {
  protocol: 'http:' | 'https:';
  host: string;
  hostname: string;
  port: number;
}

function targetOf(worker: Worker): Target {
  return {
    protocol: worker.secure ? 'https:' : 'http:',
    host: worker.address,
    hostname: worker.address,
    port: worker.port,
  };
}

/**
 * The engine drops an empty query ("/a?" goes out as "/a"): the request line is put back before
 * anything of the worker request is written. Rare, so only then is the body source wrapped.
 */
function emptyQuery(path: string): boolean {
  return path.indexOf('?') === path.length - 1;
}

function keepEmptyQuery(body: BodySource, path: string): BodySource {
  return {
    pipe(dest) {
      if (dest instanceof ClientRequest) dest.path = path;
      return body.pipe(dest);
    },
  };
}

export class ProxyEngine {
  // Only what differs from the engine's defaults (no xfwd, no changeOrigin): these options are
  // copied into every call's options. `toProxy`: the url is sent as given (see Target).
  readonly #proxy = createProxyServer({ selfHandleResponse: true, toProxy: true });

  constructor() {
    // Headers are built by forward/headers.ts; of the engine's incoming passes only `stream` is
    // wanted (`deleteLength` would add Content-Length: 0 to DELETE and OPTIONS, which Apache does
    // not). The engine has no API to remove a pass: its (runtime-public) list is filtered.
    const passes = this.#proxy as unknown as { webPasses: { name: string }[] };
    passes.webPasses = passes.webPasses.filter((p) => p.name === 'stream');
    if (passes.webPasses.length !== 1) throw new Error('http-proxy-3: stream pass not found (unsupported version)');
    this.#proxy.on('proxyReq', (proxyReq: ClientRequest, _req: IncomingMessage, _res: ServerResponse, options) => {
      (options as CallOptions).exchange?.onProxyReq(proxyReq);
    });
    // The exchange tagged its worker request in onProxyReq; the response points back to it.
    this.#proxy.on('proxyRes', (proxyRes: IncomingMessage & { req?: ClientRequest }) => {
      if (proxyRes.req) exchangeOf(proxyRes.req)?.onProxyRes(proxyRes);
    });
    this.#proxy.on('proxyReqWs', (proxyReq: ClientRequest, req: IncomingMessage, _s: unknown, options) => {
      // Emitted as the request is created, before it is ended.
      const { path } = options as CallOptions;
      if (emptyQuery(path)) proxyReq.path = path;
      (req as WithUpgrade)[kUpgrade]?.onProxyReq(proxyReq);
    });
    // Last resort only: every call passes its own callback, which suppresses this event.
    this.#proxy.on('error', (err: Error) => {
      log.forward('unexpected engine error: %s', err.message);
    });
    // The client went away mid-request; the exchange sees it on the client's socket.
    this.#proxy.on('econnreset', () => undefined);
  }

  /**
   * Proxies a WebSocket handshake and then the two sockets. `agent` must hand out the already
   * connected worker socket (see forward/preconnect.ts) so connect failures never reach here.
   * The engine's ws passes read more of the request than web's, so `req` itself shows the
   * worker-side path and headers during the call (it reads both synchronously); the app keeps
   * seeing its own. Upgrades are rare enough for that.
   */
  sendUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    worker: Worker,
    agent: Agent,
    path: string,
    headers: IncomingHttpHeaders,
    hooks: UpgradeHooks,
  ): void {
    (req as WithUpgrade)[kUpgrade] = hooks;
    const onError = (err: Error): void => {
      hooks.onError(err);
    };
    const url = req.url;
    const original = req.headers;
    const options = this.#callOptions(worker, agent, undefined, path);
    req.url = options.path;
    req.headers = headers;
    let failed: Error | undefined;
    try {
      this.#proxy.ws(req, socket, head, options as ServerOptions, onError);
    } catch (err) {
      // The engine throws for request options Node refuses.
      failed = err as Error;
    } finally {
      req.url = url;
      req.headers = original;
    }
    if (failed) {
      onError(failed);
      socket.destroy();
    }
  }

  /** The engine's target per worker, built once: the engine copies the options per call and leaves the target alone. */
  readonly #targets = new WeakMap<Worker, Target>();

  #callOptions(
    worker: Worker,
    agent: Agent,
    body: BodySource | undefined,
    path: string,
    exchange?: Exchange,
  ): CallOptions {
    let target = this.#targets.get(worker);
    if (!target) {
      target = targetOf(worker);
      this.#targets.set(worker, target);
    }
    const options: CallOptions = {
      target,
      agent,
      exchange,
      path: workerPath(worker.basePath, path),
    };
    if (worker.secure) options.secure = worker.tls?.rejectUnauthorized ?? true;
    if (body) options.buffer = emptyQuery(options.path) ? keepEmptyQuery(body, options.path) : body;
    return options;
  }

  /**
   * Sends a `method` request from `client` to `worker` through `agent`, with `path` (mount already
   * mapped, query kept), `headers` and `body`. The client's req itself is never touched.
   */
  send(
    method: string,
    client: Socket,
    res: ServerResponse,
    exchange: Exchange,
    worker: Worker,
    agent: Agent,
    path: string,
    headers: IncomingHttpHeaders,
    body: BodySource,
  ): void {
    const options = this.#callOptions(worker, agent, body, path, exchange);
    const request = new EngineRequest(method, options.path, headers, client, exchange) as unknown as IncomingMessage;
    try {
      this.#proxy.web(request, res, options as ServerOptions, onEngineError);
    } catch (err) {
      // The engine throws for request options Node refuses.
      exchange.onError(err as Error);
    }
  }
}
