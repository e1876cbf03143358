import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../model/clock.js';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Worker } from '../core/worker.js';
import type { Outcome } from './outcome.js';
import type { BodySource } from './body.js';
import type { ReverseMap } from './reverse.js';

/**
 * One request as a Forwarder sends it, the same object for each of its attempts (the request
 * path implements it, so an attempt builds no description of its own).
 */
export interface ForwardRequest {
  readonly method: string;
  /** The worker-side path (mount mapped), query kept. */
  readonly path: string;
  /** The client's headers: the forwarder derives the worker's from them. */
  readonly headers: IncomingHttpHeaders;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** req.socket: the client leaving is seen there, even for a queued pipelined response. */
  readonly client: Socket;
  /** A fresh source of the body for one attempt. */
  body(): BodySource;
  /** Extra response headers ([name, value, …]) decided once the worker's status is known. */
  responseExtras(status: number): readonly string[];
  /** Set when the worker's Location headers are to be rewritten to the mount (ProxyPassReverse). */
  readonly reverse: ReverseMap | undefined;
  /** How the attempt ended: exactly once per attempt. */
  settle(outcome: Outcome): void;
}

/** A WebSocket handshake as a Forwarder sends it. */
export interface UpgradeRequest {
  readonly path: string;
  readonly req: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** The worker accepted the connection: the handshake is handed over and cannot be sent again. */
  opened(): void;
  /**
   * How the attempt ended, exactly once: `connect-failed` before opened(), else when the tunnel
   * closes. Failures after opened() were already answered on the socket.
   */
  settle(outcome: Outcome): void;
}

/**
 * Sends one attempt of a request to one worker and reports how it ended (see Outcome): its kind,
 * how far it got (`phase`), the bytes exchanged and when each point was reached (`timings`).
 */
export interface Forwarder {
  forward(worker: Worker, request: ForwardRequest): void;
  upgrade(worker: Worker, request: UpgradeRequest): void;
  /** Open sockets (in use and idle) to each used worker's host:port, by worker name. */
  socketCounts(): Map<string, number>;
  /** Ends every open WebSocket tunnel. */
  endTunnels(): void;
  /** The worker left its balancer (DNS discovery removed it): drop what is kept for it. */
  forget?(worker: Worker): void;
  /** Closes every pooled worker socket. */
  close(): void;
}

/** What a Forwarder needs of the configuration. */
export interface ForwardOptions {
  /** Keep the client's Host header rather than the worker's. */
  preserveHost: boolean;
  xForwarded: boolean | 'edge';
  serverName: string;
  /** Idle keep-alive sockets to workers are closed after this long. */
  keepAliveIdleMs: number;
  /** Tag refused upgrades with X-Balancer-Error. */
  errorHeader: boolean;
  /** Where outcome timings are read from. */
  clock: Clock;
}
