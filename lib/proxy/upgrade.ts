import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Balancer } from '../balancer/balancer.js';
import type { Worker } from '../core/worker.js';
import type { Selection } from '../balancer/select.js';
import type { Outcome } from '../forward/outcome.js';
import type { UpgradeRequest } from '../forward/forwarder.js';
import type { HandlerDeps } from './handle.js';
import { rejectUpgrade } from '../forward/reject-upgrade.js';
import { beginRequest } from './select-wait.js';
import { Failover, type Answer, type AttemptSide } from './failover.js';
import { log } from '../debug.js';
import type { ErrorCode } from '../errors.js';

/**
 * Only WebSocket handshakes are proxied (what the engine accepts): any other upgrade (h2c, an
 * Upgrade on POST) is answered before a worker is chosen. It is not forwarded as a plain request,
 * since upgrades bypass the app's middleware.
 */
function isWebSocket(req: IncomingMessage): boolean {
  return req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket';
}

/**
 * A WebSocket (Upgrade) request: the same route resolution, selection and failover as HTTP (a
 * connect failure fails over like any other), and the worker counts the connection as busy until
 * either side closes. It takes one of the worker's `maxupgrades` slots, not one of its `max`:
 * idle tunnels cannot lock requests out.
 */
export function handleUpgrade(
  deps: HandlerDeps,
  balancer: Balancer,
  path: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.on('error', (err) => log.forward('upgrade client socket: %s', err.message));
  if (!isWebSocket(req)) {
    rejectUpgrade(socket, 501, 'Not Implemented');
    return;
  }
  new Handshake(deps, balancer, path, req, socket, head).start();
}

/** One WebSocket handshake as its attempts see it: what the Failover loop sends, and how it answers. */
class Handshake implements AttemptSide, UpgradeRequest {
  readonly slot = 'upgrade';
  readonly method = 'GET';
  readonly replayable = true;
  readonly resendable = false;
  readonly #failover: Failover;
  #opened = false;

  constructor(
    readonly deps: HandlerDeps,
    readonly balancer: Balancer,
    readonly path: string,
    readonly req: IncomingMessage,
    readonly socket: Duplex,
    readonly head: Buffer,
  ) {
    const { ctx, hit } = beginRequest(balancer, req, req.url ?? '/', req.headers.cookie);
    this.#failover = new Failover(balancer, ctx, hit, this);
  }

  get client(): Duplex {
    return this.socket;
  }

  start(): void {
    this.#failover.start();
  }

  reachable(): boolean {
    return !this.socket.destroyed;
  }

  /** Avoids the workers at their `maxupgrades`; refuses when the balancer or every worker is at its limit. */
  admit(avoid: () => Set<Worker>): boolean {
    const { balancer } = this;
    if (balancer.upgrades < balancer.maxupgrades) {
      const tried = avoid();
      for (const w of balancer.workers) if (w.upgrades >= w.maxupgrades) tried.add(w);
      if (tried.size < balancer.workers.length) return true;
    }
    rejectUpgrade(this.socket, 503, 'Service Unavailable');
    return false;
  }

  /** Another upgrade may have taken the last slot while this one waited: look again. */
  takes(worker: Worker): boolean {
    return worker.upgrades < worker.maxupgrades && this.balancer.upgrades < this.balancer.maxupgrades;
  }

  send(worker: Worker): void {
    this.deps.forwarder.upgrade(worker, this);
  }

  opened(): void {
    this.#opened = true;
    this.#failover.opened();
  }

  settle(outcome: Outcome): void {
    this.#failover.settle(outcome);
  }

  refuse(sel: Extract<Selection, { worker: undefined }>): void {
    const code =
      sel.reason === 'no-worker'
        ? 'ERR_NO_WORKER'
        : sel.reason === 'route-unavailable'
          ? 'ERR_ROUTE_UNAVAILABLE'
          : 'ERR_QUEUE_FULL';
    this.#reject(503, 'Service Unavailable', code);
  }

  /** Failures after the tunnel opened were answered on the socket by the forwarder. */
  answer(answer: Answer): void {
    if (this.#opened) return;
    if (answer.kind === 'fail') this.#reject(503, 'Service Unavailable', answer.code);
    else this.socket.destroy();
  }

  clientReused(): boolean {
    return false;
  }

  internalError(err: unknown): void {
    log.forward('internal upgrade error: %s', (err as Error).stack ?? String(err));
    this.socket.destroy();
  }

  #reject(status: 503, reason: string, code: ErrorCode): void {
    rejectUpgrade(this.socket, status, reason, this.deps.global.errorHeader ? code : undefined);
  }
}
