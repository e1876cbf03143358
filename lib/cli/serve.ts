/**
 * The standalone server: node:http with the balancer first and the manager (where the configuration
 * mounts it) for what no balancer takes; anything else is 404. close() stops accepting, lets the
 * requests in flight finish, then ends the rest.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { balancer } from '../middleware.js';
import { managerRouter } from '../manager/router.js';
import { parseListen } from './args.js';
import type { Loaded } from './load.js';

export interface Running {
  /** http://host:port the server listens on. */
  url: string;
  close(): Promise<void>;
}

const DEFAULT_LISTEN = '127.0.0.1:8080';
const DRAIN_MS = 10_000;

function notFound(res: http.ServerResponse): void {
  if (res.headersSent) return;
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found\n');
}

export async function serve(loaded: Loaded, listen: string | undefined): Promise<Running> {
  const { host, port } = parseListen(listen ?? loaded.listen ?? DEFAULT_LISTEN);
  const lb = balancer(loaded.config);
  const manager = loaded.manager === undefined ? undefined : managerRouter(lb, { mount: loaded.manager });
  const server = http.createServer((req, res) => {
    lb(req, res, () => {
      if (manager) manager(req, res, () => notFound(res));
      else notFound(res);
    });
  });
  lb.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${addr.port}`,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await lb.close(DRAIN_MS);
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
