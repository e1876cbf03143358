import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Worker } from '../core/worker.js';
import type { ProxyEngine } from './http-proxy.js';
import type { ForwardOptions, UpgradeRequest } from './forwarder.js';
import { codedError, type Outcome } from './outcome.js';
import { outgoingHeaders } from './headers.js';
import { oneSocketAgent } from './preconnect.js';
import { rejectUpgrade } from './reject-upgrade.js';
import type { AttemptTimer } from './timings.js';

/**
 * Hands a WebSocket handshake to a worker over `conn` (already connected) and keeps the two
 * sockets joined until either side closes; then settles the request with how it went. `open`
 * holds the live client sockets so closing the balancer can end them.
 */
export function tunnel(
  engine: ProxyEngine,
  options: ForwardOptions,
  worker: Worker,
  request: UpgradeRequest,
  conn: Socket,
  open: Set<Duplex>,
  timer: AttemptTimer,
): void {
  const { req, socket } = request;
  let status = 0;
  let failure: Error | undefined;
  let timedOut = false;
  let settled = false;
  const finish = (): void => {
    if (settled) return;
    settled = true;
    open.delete(socket);
    conn.destroy();
    socket.destroy();
    // An open tunnel that closed is a completed exchange.
    const bytes = timer.measures(status > 0, conn.bytesWritten, conn.bytesRead);
    let outcome: Outcome;
    if (status > 0) outcome = { kind: 'completed', status, ...bytes };
    else if (failure && timedOut) outcome = { kind: 'timeout', error: failure, ...bytes };
    else if (failure) outcome = { kind: 'failed', error: failure, ...bytes };
    else outcome = { kind: 'client-aborted', ...bytes };
    request.settle(outcome);
  };
  conn.on('error', (err) => {
    failure ??= err;
  });
  socket.once('close', finish);
  conn.once('close', finish);
  open.add(socket);
  if (socket.destroyed) return finish();
  engine.sendUpgrade(
    req,
    socket,
    request.head,
    worker,
    oneSocketAgent(conn, worker.secure),
    request.path,
    outgoingHeaders(req.headers, req.socket, {
      host: options.preserveHost ? undefined : worker.host,
      xForwarded: options.xForwarded,
      serverName: options.serverName,
      upgrade: true,
    }),
    {
      onProxyReq(proxyReq) {
        proxyReq.setTimeout(worker.timeoutMs, () => {
          timedOut = true;
          proxyReq.destroy(codedError('worker response timeout', 'ETIMEDOUT'));
        });
        proxyReq.once('response', (res: IncomingMessage) => {
          timer.firstByte();
          status = res.statusCode ?? 0;
        });
        proxyReq.once('upgrade', () => {
          timer.firstByte();
          status = 101;
          proxyReq.setTimeout(0);
        });
      },
      onError(err) {
        failure = err;
        // The engine ends the socket next; tell the client why if nothing was sent yet.
        const code = timedOut ? 'ERR_WORKER_TIMEOUT' : 'ERR_WORKER_RESPONSE';
        if (status === 0)
          rejectUpgrade(
            socket,
            timedOut ? 504 : 502,
            timedOut ? 'Gateway Timeout' : 'Bad Gateway',
            options.errorHeader ? code : undefined,
          );
        else socket.destroy();
      },
    },
  );
}
