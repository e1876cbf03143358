/**
 * The only module that imports http-proxy. One ProxyServer per middleware, fixed listeners, the
 * per-call error callback always given (so no 'error' event can go unhandled), and the response
 * handled by Exchange (selfHandleResponse) so status-based decisions, cookies and header
 * filtering happen before anything reaches the client.
 */
import httpProxy from 'http-proxy';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Agent } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { exchangeOf, type Exchange } from './exchange.js';
import type { Worker } from '../core/worker.js';
import { log } from '../debug.js';

const kUpgrade = Symbol('express-proxy-balancer.upgrade');
type WithUpgrade = IncomingMessage & { [kUpgrade]?: UpgradeHooks };

/**
 * Per-call options carry their exchange: http-proxy copies them and hands the copy to 'proxyReq'.
 * Not a property on req, which under Express has had its prototype replaced: adding a property to
 * such an object is slow.
 */
type CallOptions = httpProxy.ServerOptions & { exchange?: Exchange };

export interface UpgradeHooks {
  /** The upgrade request to the worker was created (arm timers, watch for the 101). */
  onProxyReq(proxyReq: ClientRequest): void;
  /** The upgrade failed; http-proxy ends the client socket right after this returns. */
  onError(err: Error): void;
}

export interface EngineTarget {
  protocol: 'http:' | 'https:';
  /** Host name or address, IPv6 without brackets. */
  hostname: string;
  port: number;
  /** Worker base path ("" for none). */
  basePath: string;
  agent: Agent;
  /** Verify TLS certificates (https only). */
  secure: boolean;
}

/** The target for `worker`, with the agent that carries the connection. */
export function engineTarget(worker: Worker, agent: Agent): EngineTarget {
  return {
    protocol: worker.secure ? 'https:' : 'http:',
    hostname: worker.address,
    port: worker.port,
    basePath: worker.basePath,
    agent,
    secure: worker.tls?.rejectUnauthorized ?? true,
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
   * Proxies a WebSocket handshake and then the two sockets. `target.agent` must hand out the
   * already connected worker socket (see forward/preconnect.ts) so connect failures never reach here.
   */
  sendUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: EngineTarget,
    path: string,
    headers: IncomingHttpHeaders,
    hooks: UpgradeHooks,
  ): void {
    (req as WithUpgrade)[kUpgrade] = hooks;
    const onError = (err: Error): void => {
      hooks.onError(err);
    };
    const failed = withRequestAs(req, path, headers, () => {
      this.#proxy.ws(req, socket, head, this.#options(target, undefined), onError);
    });
    if (failed) {
      onError(failed);
      socket.destroy();
    }
  }

  #options(target: EngineTarget, body: Readable | undefined): httpProxy.ServerOptions {
    return {
      target: {
        protocol: target.protocol,
        hostname: target.hostname,
        port: String(target.port),
        path: target.basePath,
      },
      agent: target.agent,
      ...(target.protocol === 'https:' && { secure: target.secure }),
      ...(body && { buffer: body }),
    };
  }

  /** Options for requests to `worker` without a body of ours: built once per worker and agent. */
  readonly #cached = new WeakMap<Worker, { agent: Agent; options: httpProxy.ServerOptions }>();

  #workerOptions(worker: Worker, agent: Agent, body: Readable | undefined, exchange: Exchange): CallOptions {
    if (body) return { ...this.#options(engineTarget(worker, agent), body), exchange };
    let hit = this.#cached.get(worker);
    if (hit?.agent !== agent) {
      hit = { agent, options: this.#options(engineTarget(worker, agent), undefined) };
      this.#cached.set(worker, hit);
    }
    // http-proxy copies the options per call and does not change their target.
    const { target, secure } = hit.options;
    return secure === undefined ? { target, agent, exchange } : { target, agent, secure, exchange };
  }

  /**
   * Sends `req` to `worker` through `agent` with `path` (mount already mapped, query kept) and
   * `headers`. The request's own url and headers are left as they were.
   */
  send(
    req: IncomingMessage,
    res: ServerResponse,
    exchange: Exchange,
    worker: Worker,
    agent: Agent,
    path: string,
    headers: IncomingHttpHeaders,
    body: Readable | undefined,
  ): void {
    const options = this.#workerOptions(worker, agent, body, exchange);
    // http-proxy reads the path and headers from req, synchronously, when it builds the request.
    const url = req.url;
    const original = req.headers;
    req.url = path;
    req.headers = headers;
    let failed: Error | undefined;
    try {
      this.#proxy.web(req, res, options, exchange.onError);
    } catch (err) {
      // http-proxy throws for request options Node refuses.
      failed = err as Error;
    } finally {
      req.url = url;
      req.headers = original;
    }
    if (failed) exchange.onError(failed);
  }
}

/**
 * Runs `fn` while `req` shows the worker-side path and headers: http-proxy reads both
 * synchronously when it builds the outgoing request, and the app keeps seeing its own.
 * Returns what `fn` threw (http-proxy throws for request options Node refuses).
 */
function withRequestAs(
  req: IncomingMessage,
  path: string,
  headers: IncomingHttpHeaders,
  fn: () => void,
): Error | undefined {
  const url = req.url;
  const original = req.headers;
  req.url = path;
  req.headers = headers;
  try {
    fn();
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    req.url = url;
    req.headers = original;
  }
}
