import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Clock } from '../model/clock.js';
import type { Measures } from '../model/outcome.js';
import { codedError, type Outcome } from './outcome.js';
import { AttemptTimer } from './timings.js';
import { writeResponseHead } from './headers.js';
import { headProblem, reasonPhrase } from './response-head.js';
import { onClientClose, offClientClose, type ClientCloseWatcher } from './client-close.js';
import { log } from '../debug.js';

/** The request an exchange belongs to (one object per request, not per-attempt closures). */
export interface ExchangeOwner {
  /** Extra response headers ([name, value, …]) decided once the worker's status is known. */
  responseExtras(status: number): readonly string[];
  /** How the attempt ended: called exactly once. */
  settle(outcome: Outcome): void;
}

/**
 * Bytes a socket has handed to the kernel. Read from the field behind `bytesWritten` when there is
 * one: the getter also copies the write queue, which is empty at both points we read it.
 */
function bytesSent(socket: Socket): number {
  const dispatched = (socket as { _bytesDispatched?: unknown })._bytesDispatched;
  return typeof dispatched === 'number' ? dispatched : socket.bytesWritten;
}

// The worker-side listeners are module functions that find their exchange on the emitter, so an
// exchange builds no closure per request. A worker request or response belongs to one exchange.
// Nothing is added to the client's req or res: under Express every object gets a map of its own
// (Express replaces their prototypes), so each property added to one copies its whole map.
const kExchange = Symbol('express-proxy-balancer.exchange');
type Tagged<T> = T & { [kExchange]?: Exchange };

/** The exchange a worker request belongs to (tagged in onProxyReq). */
export function exchangeOf(proxyReq: ClientRequest): Exchange | undefined {
  return (proxyReq as Tagged<ClientRequest>)[kExchange];
}

function onWorkerData(this: Tagged<IncomingMessage>, chunk: Buffer): void {
  this[kExchange]?.workerData(chunk);
}
function onWorkerEnd(this: Tagged<IncomingMessage>): void {
  this[kExchange]?.workerEnded();
}
function onWorkerClose(this: Tagged<IncomingMessage>): void {
  if (!this.complete) this[kExchange]?.workerBroke();
}
function onWorkerTimeout(this: Tagged<ClientRequest>): void {
  this[kExchange]?.responseTimedOut();
}
/** A 101 with Upgrade headers: without this listener Node's client destroys the socket and reports nothing. */
function onWorkerUpgrade(this: Tagged<ClientRequest>, _res: IncomingMessage, socket: Socket): void {
  socket.destroy();
  this[kExchange]?.workerSwitched();
}

/**
 * One attempt's exchange with a worker: arms the connect and response timers, classifies
 * failures by phase (never connected / connected, no response / response started), writes the
 * response to the client and settles exactly once with an Outcome.
 */
export class Exchange implements ClientCloseWatcher {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #client: Socket;
  readonly #owner: ExchangeOwner;
  /** Rewrites the worker's headers before they are passed on (ProxyPassReverse). */
  readonly #mapHeaders: ((raw: readonly string[]) => readonly string[]) | undefined;
  readonly #connectTimeoutMs: number;
  readonly #timeoutMs: number;
  readonly #timer: AttemptTimer;
  #proxyReq: ClientRequest | undefined;
  #proxyRes: IncomingMessage | undefined;
  #socket: Socket | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #writtenAtStart = 0;
  #transferred = 0;
  #read = 0;
  #status = 0;
  #message = '';
  #headWritten = false;
  #connected = false;
  #reused = false;
  #timedOut = false;
  #responded = false;
  #waitingDrain = false;
  #onDrain: (() => void) | undefined;
  #settled = false;

  /** `client` is req.socket: the client leaving is seen there, even for a queued pipelined response. */
  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    client: Socket,
    connectTimeoutMs: number,
    timeoutMs: number,
    owner: ExchangeOwner,
    clock: Clock,
    mapHeaders?: (raw: readonly string[]) => readonly string[],
  ) {
    this.#mapHeaders = mapHeaders;
    this.#timer = new AttemptTimer(clock);
    this.#req = req;
    this.#res = res;
    this.#client = client;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#timeoutMs = timeoutMs;
    this.#owner = owner;
    onClientClose(client, this);
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** The engine's outgoing request got its socket. */
  onProxyReq(proxyReq: ClientRequest): void {
    if (this.#settled) {
      proxyReq.destroy();
      return;
    }
    this.#proxyReq = proxyReq;
    (proxyReq as Tagged<ClientRequest>)[kExchange] = this;
    const socket = proxyReq.socket!;
    this.#socket = socket;
    this.#writtenAtStart = bytesSent(socket);
    this.#reused = proxyReq.reusedSocket;
    if (socket.connecting) {
      // A new connection only (keep-alive reuse skips this): closures built here, not per request.
      this.#connectTimer = setTimeout(() => {
        this.#onConnectTimeout();
      }, this.#connectTimeoutMs);
      socket.once('encrypted' in socket ? 'secureConnect' : 'connect', () => {
        this.#onConnected();
      });
    } else {
      this.#connected = true;
      this.#timer.connected();
    }
    // on(), not setTimeout's callback argument, which Node wraps with once() per request.
    proxyReq.on('timeout', onWorkerTimeout);
    proxyReq.on('upgrade', onWorkerUpgrade);
    proxyReq.setTimeout(this.#timeoutMs);
  }

  /**
   * The worker's response head arrived: check it and stream the body. The head is written to the
   * client with the first body byte (Node would hold it until then anyway), so a worker that fails
   * before that still gets the client a proper error answer rather than an empty reply.
   */
  onProxyRes(proxyRes: IncomingMessage): void {
    if (this.#settled || this.#res.destroyed) {
      proxyRes.destroy();
      return;
    }
    this.#responded = true;
    this.#timer.firstByte();
    this.#proxyRes = proxyRes;
    (proxyRes as Tagged<IncomingMessage>)[kExchange] = this;
    const status = proxyRes.statusCode ?? 0;
    this.#status = status;
    const message = proxyRes.statusMessage ?? '';
    // Status line + body, as Apache counts a worker's `read` for bytraffic.
    this.#read += 10 + String(status).length + message.length;
    const problem = headProblem(status, proxyRes.rawHeaders);
    if (problem !== undefined) {
      proxyRes.destroy();
      this.#finish({
        kind: 'failed',
        error: codedError(`the worker sent ${problem}`, 'EBADRESPONSE'),
        ...this.#bytes(),
      });
      return;
    }
    this.#message = reasonPhrase(status, message);
    proxyRes.on('data', onWorkerData);
    proxyRes.on('end', onWorkerEnd);
    // No 'error' listener: IncomingMessage then emits none, and 'close' before completion says it all.
    proxyRes.on('close', onWorkerClose);
  }

  /** Writes the worker's head to the client; false (and settled) when Node refused it. */
  #writeHead(): boolean {
    this.#headWritten = true;
    const proxyRes = this.#proxyRes!;
    try {
      writeResponseHead(
        this.#res,
        this.#status,
        this.#message,
        this.#mapHeaders ? this.#mapHeaders(proxyRes.rawHeaders) : proxyRes.rawHeaders,
        this.#owner.responseExtras(this.#status),
      );
      return true;
    } catch (err) {
      // Refused before anything was sent (a wrapped writeHead that throws, a response ended by someone else).
      proxyRes.destroy();
      this.#finish({ kind: 'failed', error: err as Error, ...this.#bytes() });
      return false;
    }
  }

  // The body is copied by hand rather than with pipe(): the chunks are counted here anyway (`read`),
  // and pipe() adds and removes half a dozen listeners per response.
  /** @internal A body chunk from the worker. */
  workerData(chunk: Buffer): void {
    this.#read += chunk.length;
    const res = this.#res;
    if (this.#endedElsewhere() || (!this.#headWritten && !this.#writeHead())) return;
    if (!res.write(chunk) && !this.#waitingDrain) {
      this.#waitingDrain = true;
      this.#proxyRes!.pause();
      // Backpressure only: the one closure an exchange may build.
      res.once(
        'drain',
        (this.#onDrain ??= () => {
          this.clientDrained();
        }),
      );
    }
  }

  /**
   * Someone else ended the response (a timeout middleware): the worker's answer is dropped, since a
   * write now would make Node emit an 'error' on res that nobody listens to.
   */
  #endedElsewhere(): boolean {
    if (!this.#res.writableEnded) return false;
    this.#proxyRes!.destroy();
    this.#finish({ kind: 'truncated', status: this.#status, timedOut: false, ...this.#bytes() });
    return true;
  }

  /** @internal The client took what was buffered. */
  clientDrained(): void {
    this.#waitingDrain = false;
    this.#proxyRes?.resume();
  }

  /**
   * @internal The worker's body is complete and handed to the client's connection: the attempt is
   * done (Apache, too, counts a request done once the response is passed to the client's filters).
   */
  workerEnded(): void {
    if (this.#settled || this.#endedElsewhere() || (!this.#headWritten && !this.#writeHead())) return;
    this.#captureTransferred();
    this.#res.end();
    this.#finish({ kind: 'completed', status: this.#status, ...this.#bytes(true) });
  }

  /** Error callback from the engine (before or after the response head). */
  onError(err: Error): void {
    if (this.#settled) return;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (this.#responded) {
      this.workerBroke(err);
      return;
    }
    const bytes = this.#bytes();
    if (!this.#connected) {
      this.#finish({ kind: 'connect-failed', error: err, ...bytes });
    } else if (this.#timedOut) {
      this.#finish({ kind: 'timeout', error: err, ...bytes });
    } else if (this.#reused && (code === 'ECONNRESET' || code === 'EPIPE')) {
      this.#finish({ kind: 'stale-socket', error: err, ...bytes });
    } else {
      this.#finish({ kind: 'failed', error: err, ...bytes });
    }
  }

  #onConnected(): void {
    this.#connected = true;
    this.#timer.connected();
    clearTimeout(this.#connectTimer);
  }

  #onConnectTimeout(): void {
    this.#proxyReq?.destroy(codedError('connect timeout', 'ECONNECTTIMEOUT'));
  }

  /** @internal No byte from the worker within the response timeout. */
  responseTimedOut(): void {
    if (!this.#connected || this.#settled) return; // the connect timer owns that phase
    this.#timedOut = true;
    this.#proxyReq?.destroy(codedError('worker response timeout', 'ETIMEDOUT'));
  }

  /** @internal The worker answered a plain request with 101 and Upgrade headers (its socket is gone). */
  workerSwitched(): void {
    this.#finish({
      kind: 'failed',
      error: codedError('the worker switched protocols (101) on a request without Upgrade', 'EBADRESPONSE'),
      ...this.#bytes(),
    });
  }

  /** @internal The worker's response stopped before its end (`err`: the worker request's error, if any). */
  workerBroke(err?: Error): void {
    // A complete response ends with its own 'end' event: a later socket error (bytes after it) does not undo it.
    if (this.#settled || this.#proxyRes?.complete === true) return;
    // Body bytes that came before the failure and are still buffered (the same packet) go out first.
    if (!this.#headWritten && (this.#proxyRes?.readableLength ?? 0) > 0) this.#proxyRes!.read();
    this.#endBroken(err);
  }

  /** Ends an attempt whose response broke: an error answer if nothing reached the client, else a cut. */
  #endBroken(err: Error | undefined): void {
    if (this.#settled) return;
    if (!this.#headWritten) {
      // Nothing reached the client yet: it can still get a proper answer.
      this.#finish(
        this.#timedOut
          ? { kind: 'timeout', error: err ?? codedError('worker response timeout', 'ETIMEDOUT'), ...this.#bytes() }
          : {
              kind: 'failed',
              error: codedError(`the response broke before its body${err ? ` (${err.message})` : ''}`, 'EBADRESPONSE'),
              ...this.#bytes(),
            },
      );
      return;
    }
    // The client has part of a response: cut it so it is seen as truncated, never spliced. Node
    // holds a response's first write back (corked) until the next tick: let it out before the cut.
    this.#res.socket?.uncork();
    this.#res.destroy();
    this.#finish({ kind: 'truncated', status: this.#status, timedOut: this.#timedOut, ...this.#bytes() });
  }

  /** @internal The client's connection closed. */
  clientClosed(): void {
    if (this.#settled) return;
    this.#proxyReq?.destroy();
    const bytes = this.#bytes();
    if (this.#responded) this.#finish({ kind: 'truncated', status: this.#status, timedOut: false, ...bytes });
    else this.#finish({ kind: 'client-aborted', ...bytes });
  }

  #captureTransferred(): void {
    if (this.#socket && this.#transferred === 0) this.#transferred = bytesSent(this.#socket) - this.#writtenAtStart;
  }

  /** The bytes, phase and timings the outcome reports. */
  #bytes(completed = false): Measures {
    this.#captureTransferred();
    return this.#timer.measures(completed, Math.max(0, this.#transferred), this.#read);
  }

  #finish(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#connectTimer);
    this.#proxyReq?.setTimeout(0);
    offClientClose(this.#client, this);
    if (outcome.kind !== 'completed' && outcome.kind !== 'truncated') this.#proxyReq?.destroy();
    if (log.forward.enabled) log.forward('%s %s -> %s', this.#req.method, this.#req.url, outcome.kind);
    this.#owner.settle(outcome);
  }
}
