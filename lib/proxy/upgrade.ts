import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Balancer } from '../core/balancer.js';
import type { Worker } from '../core/worker.js';
import { codedError, type Outcome } from '../forward/outcome.js';
import type { HandlerDeps } from './handle.js';
import { outgoingHeaders } from '../forward/headers.js';
import { preconnect, oneSocketAgent } from '../forward/preconnect.js';
import { beginRequest, selectWaiting } from './select-wait.js';
import { log } from '../debug.js';
import type { ErrorCode } from '../errors.js';

/** Answers an upgrade request with a bare status line (no handshake) and closes the socket; `code` goes in X-Balancer-Error. */
export function rejectUpgrade(
  socket: Duplex,
  status: 400 | 404 | 501 | 502 | 503 | 504,
  reason: string,
  code?: ErrorCode,
): void {
  if (socket.writable) {
    const tag = code === undefined ? '' : `X-Balancer-Error: ${code}\r\n`;
    socket.end(`HTTP/1.1 ${status} ${reason}\r\n${tag}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

/**
 * Only WebSocket handshakes are proxied (what http-proxy accepts): any other upgrade (h2c, an
 * Upgrade on POST) is answered before a worker is chosen. It is not forwarded as a plain request,
 * since upgrades bypass the app's middleware.
 */
function isWebSocket(req: IncomingMessage): boolean {
  return req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket';
}

/**
 * A WebSocket (Upgrade) request: the same route resolution and election as HTTP, a connect
 * failure fails over like any other, and the worker counts the connection as busy until either
 * side closes. It takes one of the worker's `maxupgrades` slots, not one of its `max`: idle
 * tunnels cannot lock requests out. `open` holds live client sockets so close() can end them.
 */
export async function handleUpgrade(
  deps: HandlerDeps,
  balancer: Balancer,
  path: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  open: Set<Duplex>,
): Promise<void> {
  socket.on('error', (err) => log.forward('upgrade client socket: %s', err.message));
  if (!isWebSocket(req)) {
    rejectUpgrade(socket, 501, 'Not Implemented');
    return;
  }
  const { ctx, hit } = beginRequest(balancer, req, req.url ?? '/', req.headers.cookie);
  // Workers that failed to connect, or have no upgrade slot left.
  const tried = new Set<Worker>();
  let attempts = 0;
  for (;;) {
    if (!upgradeSlotsLeft(balancer, tried)) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    const sel = await selectWaiting(balancer, hit, ctx, tried, socket);
    if (socket.destroyed) return;
    if (!sel.worker) {
      const code =
        sel.reason === 'no-worker'
          ? 'ERR_NO_WORKER'
          : sel.reason === 'route-unavailable'
            ? 'ERR_ROUTE_UNAVAILABLE'
            : 'ERR_QUEUE_FULL';
      rejectUpgrade(socket, 503, 'Service Unavailable', deps.global.errorHeader ? code : undefined);
      return;
    }
    const worker = sel.worker;
    // Another upgrade may have taken the last slot while this one waited: look again.
    if (worker.upgrades >= worker.maxupgrades || balancer.upgrades >= balancer.maxupgrades) continue;
    ctx.worker = worker.name;
    ctx.workerRoute = worker.route;
    ctx.tried.push(worker.name);
    balancer.acquire(worker, 'upgrade');
    const conn = await preconnect(worker);
    if (conn instanceof Error) {
      const outcome: Outcome = { kind: 'connect-failed', error: conn, transferred: 0, read: 0 };
      balancer.release(worker, outcome, 'GET', 'upgrade');
      balancer.markError(worker, `upgrade connect failed: ${(conn as NodeJS.ErrnoException).code ?? conn.message}`);
      tried.add(worker);
      if (!worker.isUsable() && attempts++ < balancer.maxAttempts) continue;
      rejectUpgrade(socket, 503, 'Service Unavailable', deps.global.errorHeader ? 'ERR_WORKER_CONNECT' : undefined);
      return;
    }
    bridge(deps, balancer, worker, path, req, socket, head, conn, open);
    return;
  }
}

/** Adds the workers at their `maxupgrades` to `avoid`; false when the balancer or every worker is at its limit. */
function upgradeSlotsLeft(balancer: Balancer, avoid: Set<Worker>): boolean {
  if (balancer.upgrades >= balancer.maxupgrades) return false;
  for (const w of balancer.workers) if (w.upgrades >= w.maxupgrades) avoid.add(w);
  return avoid.size < balancer.workers.length;
}

function bridge(
  deps: HandlerDeps,
  balancer: Balancer,
  worker: Worker,
  path: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  conn: Socket,
  open: Set<Duplex>,
): void {
  let status = 0;
  let failure: Error | undefined;
  let timedOut = false;
  let released = false;
  const finish = (): void => {
    if (released) return;
    released = true;
    open.delete(socket);
    conn.destroy();
    socket.destroy();
    const bytes = { transferred: conn.bytesWritten, read: conn.bytesRead };
    let outcome: Outcome;
    if (status > 0) outcome = { kind: 'completed', status, ...bytes };
    else if (failure && timedOut) outcome = { kind: 'timeout', error: failure, ...bytes };
    else if (failure) outcome = { kind: 'failed', error: failure, ...bytes };
    else outcome = { kind: 'client-aborted', ...bytes };
    balancer.release(worker, outcome, 'GET', 'upgrade');
  };
  conn.on('error', (err) => {
    failure ??= err;
  });
  socket.once('close', finish);
  conn.once('close', finish);
  open.add(socket);
  if (socket.destroyed) return finish();
  const { global } = deps;
  deps.engine.sendUpgrade(
    req,
    socket,
    head,
    worker,
    oneSocketAgent(conn, worker.secure),
    path,
    outgoingHeaders(req.headers, req.socket, {
      host: global.preserveHost ? undefined : worker.host,
      xForwarded: global.xForwarded,
      serverName: global.serverName,
      upgrade: true,
    }),
    {
      onProxyReq(proxyReq) {
        proxyReq.setTimeout(worker.timeoutMs, () => {
          timedOut = true;
          proxyReq.destroy(codedError('worker response timeout', 'ETIMEDOUT'));
        });
        proxyReq.once('response', (res: IncomingMessage) => (status = res.statusCode ?? 0));
        proxyReq.once('upgrade', () => {
          status = 101;
          proxyReq.setTimeout(0);
        });
      },
      onError(err) {
        failure = err;
        // http-proxy ends the socket next; tell the client why if nothing was sent yet.
        const code = timedOut ? 'ERR_WORKER_TIMEOUT' : 'ERR_WORKER_RESPONSE';
        if (status === 0)
          rejectUpgrade(
            socket,
            timedOut ? 504 : 502,
            timedOut ? 'Gateway Timeout' : 'Bad Gateway',
            global.errorHeader ? code : undefined,
          );
        else socket.destroy();
      },
    },
  );
}
