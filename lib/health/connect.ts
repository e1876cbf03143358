import net from 'node:net';
import tls from 'node:tls';
import type { Worker } from '../core/worker.js';

/** Where a check goes: the worker's own address, never its pooled agent (checks must not reuse traffic sockets). */
export interface CheckTarget {
  hostname: string;
  port: number;
  /** Host header value: host:port like Apache's checks. */
  host: string;
  secure: boolean;
  worker: Worker;
}

export function checkTarget(worker: Worker): CheckTarget {
  const { address: hostname, port, secure } = worker;
  const host = `${worker.url.hostname}:${port}`;
  return { hostname, port, host, secure, worker };
}

/** TLS settings of the worker, for https checks. */
export function tlsOptions(worker: Worker): tls.ConnectionOptions {
  const t = worker.tls ?? {};
  const hostname = worker.address;
  return {
    ...(t.ca !== undefined && { ca: t.ca }),
    ...(t.cert !== undefined && { cert: t.cert }),
    ...(t.key !== undefined && { key: t.key }),
    servername: t.servername ?? (net.isIP(hostname) ? undefined : hostname),
    rejectUnauthorized: t.rejectUnauthorized ?? true,
  };
}

/** A fresh socket (TLS for https when `withTls`) and the event that means "ready to write". */
export function openSocket(target: CheckTarget, withTls: boolean): { socket: net.Socket; readyEvent: string } {
  if (withTls && target.secure) {
    const socket = tls.connect({ host: target.hostname, port: target.port, ...tlsOptions(target.worker) });
    return { socket, readyEvent: 'secureConnect' };
  }
  return { socket: net.connect({ host: target.hostname, port: target.port }), readyEvent: 'connect' };
}

export function errorCode(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}
