import net from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import https from 'node:https';
import type { Worker } from '../core/worker.js';
import { codedError } from './outcome.js';

/**
 * Opens a connection to a worker before anything of the client's is handed over, so a refused or
 * timed-out connect can fail over to another worker (the engine's own WebSocket path ends the
 * client socket on any error).
 */
export function preconnect(worker: Worker): Promise<net.Socket | Error> {
  return new Promise((resolve) => {
    const { address: host, port, secure } = worker;
    const tlsOpts = worker.tls ?? {};
    const socket = secure
      ? tls.connect({
          host,
          port,
          servername: tlsOpts.servername ?? (net.isIP(host) ? undefined : host),
          ...(tlsOpts.ca !== undefined && { ca: tlsOpts.ca }),
          ...(tlsOpts.cert !== undefined && { cert: tlsOpts.cert }),
          ...(tlsOpts.key !== undefined && { key: tlsOpts.key }),
          rejectUnauthorized: tlsOpts.rejectUnauthorized ?? true,
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy(codedError('connect timeout', 'ECONNECTTIMEOUT'));
    }, worker.connectTimeoutMs);
    const done = (result: net.Socket | Error): void => {
      clearTimeout(timer);
      socket.off('error', done);
      resolve(result);
    };
    socket.once('error', done);
    socket.once(secure ? 'secureConnect' : 'connect', () => done(socket));
  });
}

/** An agent that hands out one already connected socket (for the upgrade request). */
export function oneSocketAgent(socket: net.Socket, secure: boolean): http.Agent {
  const agent = secure ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
  agent.createConnection = () => socket;
  return agent;
}
