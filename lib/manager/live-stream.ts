import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Balancer } from '../balancer/balancer.js';
import type { Clock } from '../model/clock.js';
import type { ManagerSnapshot } from './types.js';
import { liveStats } from './live.js';
import { sparklines } from './sparkline.js';
import { safeJson } from './escape.js';

/** Seconds between two updates of an open page. */
export const LIVE_INTERVAL_MS = 2000;
/** Open live pages per manager; more get 503 (each one costs a snapshot per interval). */
export const MAX_LIVE_CLIENTS = 32;

/** What one update carries per worker: the cells the page refreshes, sparklines pre-rendered. */
export interface LiveWorker {
  name: string;
  statusText: string;
  status: string;
  usable: boolean;
  elected: number;
  busy: number;
  spark: string;
}

export function liveUpdate(snap: ManagerSnapshot, balancers: readonly Balancer[]): unknown {
  return {
    generatedAt: snap.generatedAt,
    balancers: snap.balancers.map((b) => {
      const stats = liveStats(balancers.find((x) => x.name === b.name)!);
      return {
        name: b.name,
        workers: b.workers.map((w): LiveWorker => ({
          name: w.name,
          statusText: w.statusText,
          status: w.status,
          usable: w.usable,
          elected: w.elected,
          busy: w.busy,
          spark: stats ? sparklines(stats.series(w.name)) : '',
        })),
      };
    }),
  };
}

export interface LiveSource {
  balancers: readonly Balancer[];
  clock: Clock;
  snapshot(): ManagerSnapshot;
}

let open = 0;

/**
 * Server-Sent Events: an update now and every LIVE_INTERVAL_MS until the page goes away or the
 * balancers close (an open stream would otherwise hold the server's close() for ever).
 */
export function streamLive(src: LiveSource, req: IncomingMessage, res: ServerResponse): void {
  if (open >= MAX_LIVE_CLIENTS) {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '10' });
    res.end('too many live views open\n');
    return;
  }
  open++;
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
  const send = (): void => {
    res.write(`data: ${safeJson(liveUpdate(src.snapshot(), src.balancers), 0)}\n\n`);
  };
  res.write(`retry: ${LIVE_INTERVAL_MS * 2}\n\n`);
  let ended = false;
  let timer: unknown;
  const tick = (): void => {
    if (ended) return;
    send();
    timer = src.clock.setTimeout(tick, LIVE_INTERVAL_MS);
  };
  const end = (): void => {
    if (ended) return;
    ended = true;
    open--;
    src.clock.clearTimeout(timer);
    for (const b of src.balancers) b.off('close', end);
    res.end();
  };
  for (const b of src.balancers) b.on('close', end);
  req.on('close', end);
  res.on('error', end);
  tick();
}
