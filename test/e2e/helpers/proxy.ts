import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import express from 'express';
import { balancer } from '../../../lib/index.js';
import type { BalancerConfig, BalancerMiddleware } from '../../../lib/index.js';

export interface Proxy {
  /** http://127.0.0.1:port (or http://[::1]:port) of the front server. */
  base: string;
  mw: BalancerMiddleware;
  server: http.Server;
  close(): Promise<void>;
}

/** The real on-headers, which morgan, compression and response-time use to wrap res.writeHead. */
const onHeaders = createRequire(import.meta.url)('on-headers') as (
  res: http.ServerResponse,
  listener: (this: http.ServerResponse) => void,
) => void;

/**
 * 'node-cleared': bare node:http whose handler set a header and removed it again before the
 * middleware (Node then keeps an empty header map, not none).
 * 'node-on-headers': bare node:http whose handler wrapped res.writeHead with on-headers (as morgan
 * or response-time do); its listener sets X-Response-Time.
 * 'node-pairs-writehead': bare node:http whose writeHead wrapper reads a headers array as
 * [name, value] pairs only, as on-headers did before 1.1.0 (morgan 1.10.0 still pins it).
 */
export type AppKind = 'express' | 'node' | 'node-cleared' | 'node-on-headers' | 'node-pairs-writehead';

/** writeHead wrapped the way on-headers 1.0.x did it: an array argument is taken as [name, value] pairs. */
function wrapWriteHeadPairsOnly(res: http.ServerResponse): void {
  const original = res.writeHead.bind(res) as (status: number, message?: string) => http.ServerResponse;
  res.writeHead = function (this: http.ServerResponse, status: number, ...rest: unknown[]) {
    const headers = typeof rest[0] === 'string' ? rest[1] : rest[0];
    if (Array.isArray(headers)) for (const pair of headers as string[][]) this.setHeader(pair[0]!, pair[1]!);
    this.setHeader('x-response-time', '1ms');
    return typeof rest[0] === 'string' ? original(status, rest[0]) : original(status);
  };
}

/**
 * Runs the middleware in a real app on an ephemeral loopback port: Express 5 with `app.use(mw)`
 * (its final handler answers 404 "Cannot GET …" for what the balancer passes on), or a bare
 * node:http server calling the middleware without `next`.
 */
export async function startProxy(
  config: BalancerConfig,
  opts: { kind?: AppKind; host?: string; app?: http.RequestListener } = {},
): Promise<Proxy> {
  const mw = balancer(config);
  let handler: http.RequestListener;
  if (opts.app) handler = opts.app;
  else if (opts.kind === 'node') handler = (req, res) => mw(req, res);
  else if (opts.kind === 'node-cleared') {
    handler = (req, res) => {
      res.setHeader('x-set-then-removed', '1');
      res.removeHeader('x-set-then-removed');
      mw(req, res);
    };
  } else if (opts.kind === 'node-on-headers') {
    handler = (req, res) => {
      onHeaders(res, function () {
        this.setHeader('x-response-time', '1ms');
      });
      mw(req, res);
    };
  } else if (opts.kind === 'node-pairs-writehead') {
    handler = (req, res) => {
      wrapWriteHeadPairsOnly(res);
      mw(req, res);
    };
  } else {
    const app = express();
    app.use(mw);
    handler = app;
  }
  const server = http.createServer(handler);
  return listenProxy(server, mw, opts.host ?? '127.0.0.1');
}

export async function listenProxy(server: http.Server, mw: BalancerMiddleware, host = '127.0.0.1'): Promise<Proxy> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    mw,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await mw.close(0);
    },
  };
}

/** Every worker's busy count, balancer by balancer. */
export function busyCounts(mw: BalancerMiddleware): number[] {
  return mw.balancers.flatMap((b) => b.workers.map((w) => w.busy));
}

/**
 * Asserts every worker's busy count is back to 0. The count is released in the same tick chain
 * that ends the response, so it normally already is; a few event-loop turns (setImmediate, never
 * a fixed sleep) absorb the ordering between the client's 'end' and the proxy's 'finish'/'close'.
 */
export async function assertIdle(mw: BalancerMiddleware, turns = 200): Promise<void> {
  for (let i = 0; i < turns && busyCounts(mw).some((n) => n !== 0); i++) {
    await new Promise<void>((r) => setImmediate(r));
  }
  const counts = busyCounts(mw);
  assert.deepEqual(
    counts,
    counts.map(() => 0),
    `busy counts not back to 0: ${JSON.stringify(counts)}`,
  );
}

/** Total sockets the middleware's agents hold (in use and idle). */
export function totalSockets(mw: BalancerMiddleware): number {
  let n = 0;
  for (const v of mw.socketCounts().values()) n += v;
  return n;
}

/** Polls (setImmediate) until `cond` holds or `turns` loop turns passed; returns the final value. */
export async function until(cond: () => boolean, turns = 2000): Promise<boolean> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return true;
    await new Promise<void>((r) => setImmediate(r));
  }
  return cond();
}

/** Polls until `cond` holds, at most `ms` of wall time (for events that need real I/O to happen). */
export async function eventually(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    if (cond()) return true;
    // A few immediate turns first, then 1 ms polls so a slow event does not spin the CPU.
    await new Promise<void>((r) => (i < 50 ? setImmediate(r) : setTimeout(r, 1)));
  }
  return cond();
}
