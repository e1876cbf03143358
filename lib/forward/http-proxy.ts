/**
 * The only module that imports http-proxy. One ProxyServer per middleware, fixed listeners, the
 * per-call error callback always given (so no 'error' event can go unhandled), and the response
 * handled by Exchange (selfHandleResponse) so status-based decisions, cookies and header
 * filtering happen before anything reaches the client.
 */
import httpProxy from 'http-proxy';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BodySource } from './body.js';
import { exchangeOf, type Exchange } from './exchange.js';
import type { Worker } from '../core/worker.js';
import { log } from '../debug.js';

const kUpgrade = Symbol('express-proxy-balancer.upgrade');
type WithUpgrade = IncomingMessage & { [kUpgrade]?: UpgradeHooks };

/**
 * Per-call options carry their exchange: http-proxy copies them and hands the copy to 'proxyReq',
 * so no property has to be added to req (whose prototype Express has replaced).
 */
type CallOptions = Omit<httpProxy.ServerOptions, 'buffer'> & {
  exchange?: Exchange;
  /** http-proxy's `buffer`: it only calls pipe() on it, so any BodySource will do. */
  buffer?: BodySource;
};

export interface UpgradeHooks {
  /** The upgrade request to the worker was created (arm timers, watch for the 101). */
  onProxyReq(proxyReq: ClientRequest): void;
  /** The upgrade failed; http-proxy ends the client socket right after this returns. */
  onError(err: Error): void;
}

/**
 * What http-proxy's `stream` pass reads from a request (the only pass kept): method, url and
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
    /** The attempt this request belongs to: http-proxy hands this object back to its error callback. */
    readonly exchange: Exchange,
  ) {}

  on(): this {
    return this;
  }
}

/** http-proxy's error callback for web requests: one function for all, finding the exchange on its request. */
function onEngineError(err: Error, req: IncomingMessage): void {
  (req as unknown as EngineRequest).exchange.onError(err);
}

/** http-proxy's target for a worker (url.parse-style fields, which is what http-proxy 1.18 reads). */
interface Target {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: string;
  path: string;
}

function targetOf(worker: Worker): Target {
  return {
    protocol: worker.secure ? 'https:' : 'http:',
    hostname: worker.address,
    port: String(worker.port),
    path: worker.basePath,
  };
}

export class ProxyEngine {
  // Only what differs from http-proxy's defaults (no xfwd, no changeOrigin, prependPath): these
  // options are copied into every call's options.
  readonly #proxy = httpProxy.createProxyServer({ selfHandleResponse: true });

  constructor() {
    // Headers are built by forward/headers.ts; of http-proxy's incoming passes only `stream` is
    // wanted (`deleteLength` would add Content-Length: 0 to DELETE and OPTIONS, which Apache does not).
    const passes = this.#proxy as unknown as { webPasses: { name: string }[] };
    passes.webPasses = passes.webPasses.filter((p) => p.name === 'stream');
    if (passes.webPasses.length !== 1) throw new Error('http-proxy: stream pass not found (unsupported version)');
    this.#proxy.on(
      'proxyReq',
      (proxyReq: ClientRequest, _req: IncomingMessage, _res: ServerResponse, options: CallOptions) => {
        options.exchange?.onProxyReq(proxyReq);
      },
    );
    // The exchange tagged its worker request in onProxyReq; the response points back to it.
    this.#proxy.on('proxyRes', (proxyRes: IncomingMessage & { req?: ClientRequest }) => {
      if (proxyRes.req) exchangeOf(proxyRes.req)?.onProxyRes(proxyRes);
    });
    this.#proxy.on('proxyReqWs', (proxyReq: ClientRequest, req: IncomingMessage) => {
      (req as WithUpgrade)[kUpgrade]?.onProxyReq(proxyReq);
    });
    // Last resort only: every call passes its own callback, which suppresses this event.
    this.#proxy.on('error', (err: Error) => {
      log.forward('unexpected engine error: %s', err.message);
    });
    // The client went away mid-request; the exchange sees it through res 'close'.
    this.#proxy.on('econnreset', () => undefined);
  }

  /**
   * Proxies a WebSocket handshake and then the two sockets. `agent` must hand out the already
   * connected worker socket (see forward/preconnect.ts) so connect failures never reach here.
   * http-proxy's ws passes read more of the request than web's, so `req` itself shows the
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
    req.url = path;
    req.headers = headers;
    let failed: Error | undefined;
    try {
      this.#proxy.ws(
        req,
        socket,
        head,
        this.#callOptions(worker, agent, undefined) as httpProxy.ServerOptions,
        onError,
      );
    } catch (err) {
      // http-proxy throws for request options Node refuses.
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

  /** http-proxy's target per worker, built once: http-proxy copies the options per call and leaves the target alone. */
  readonly #targets = new WeakMap<Worker, Target>();

  #callOptions(worker: Worker, agent: Agent, body: BodySource | undefined, exchange?: Exchange): CallOptions {
    let target = this.#targets.get(worker);
    if (!target) {
      target = targetOf(worker);
      this.#targets.set(worker, target);
    }
    const options: CallOptions = { target, agent, exchange };
    if (worker.secure) options.secure = worker.tls?.rejectUnauthorized ?? true;
    if (body) options.buffer = body;
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
    const options = this.#callOptions(worker, agent, body, exchange);
    const request = new EngineRequest(method, path, headers, client, exchange) as unknown as IncomingMessage;
    try {
      this.#proxy.web(request, res, options as httpProxy.ServerOptions, onEngineError);
    } catch (err) {
      // http-proxy throws for request options Node refuses.
      exchange.onError(err as Error);
    }
  }
}
