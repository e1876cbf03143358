import http from 'node:http';
import net from 'node:net';
import type { TestContext } from 'node:test';
import type { BalancerConfig, MemberOptions } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { RawServer, type RawBehaviour } from '../support/raw-server.js';
import { startProxy, type Proxy } from '../e2e/helpers/proxy.js';

/** What a client saw: a response (whole or cut), or no response at all (`status` 0). */
export interface Seen {
  status: number;
  message: string;
  rawHeaders: string[];
  body: string;
  /** The response ended normally. */
  complete: boolean;
  /** The client-side error code, when the exchange broke. */
  error: string | undefined;
}

/**
 * One request (GET unless `method` says otherwise) on a fresh connection with Node's client; never
 * rejects. A response is complete when it reached its end, even if the connection failed after it
 * (bytes after the response). A 101 with Upgrade headers is reported as status 101 with error
 * 'upgrade' (without an 'upgrade' listener Node's client would destroy the socket and report nothing).
 */
export function get(base: string, path: string, timeoutMs = 10_000, method = 'GET'): Promise<Seen> {
  return new Promise((resolve) => {
    const seen: Seen = { status: 0, message: '', rawHeaders: [], body: '', complete: false, error: undefined };
    let done = false;
    let responded = false;
    const note = (err: Error): void => {
      seen.error ??= (err as NodeJS.ErrnoException).code ?? err.message;
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ ...seen });
    };
    const req = http.request(`${base}${path}`, { agent: false, method }, (res) => {
      responded = true;
      seen.status = res.statusCode ?? 0;
      seen.message = res.statusMessage ?? '';
      seen.rawHeaders = res.rawHeaders;
      res.setEncoding('latin1');
      res.on('data', (d: string) => (seen.body += d));
      res.on('end', () => {
        seen.complete = true;
        finish();
      });
      res.on('error', note);
      res.on('close', finish);
    });
    req.on('upgrade', (res: http.IncomingMessage, socket: net.Socket) => {
      socket.destroy();
      seen.status = res.statusCode ?? 0;
      note(new Error('upgrade'));
      finish();
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('client timeout')));
    req.on('error', (e) => {
      note(e);
      if (!responded) finish();
    });
    req.end();
  });
}

/** The value of the first header called `name` (any case) in a raw header list. */
export function header(rawHeaders: readonly string[], name: string): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) return rawHeaders[i + 1];
  return undefined;
}

/**
 * A raw worker that answers `GET /case/<n>` with `responses[n]` (latin1 bytes) and then closes, so
 * a body framed by the close is complete and every case gets a connection of its own.
 */
export async function caseWorker(t: TestContext, responses: readonly string[]): Promise<RawServer> {
  const behaviour: RawBehaviour = (socket, head) => {
    const n = Number(/^GET \/case\/(\d+) /.exec(head)?.[1] ?? -1);
    const bytes = responses[n];
    if (bytes === undefined) socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    else socket.end(Buffer.from(bytes, 'latin1'));
  };
  return rawWorker(t, behaviour);
}

export async function rawWorker(t: TestContext, behaviour: RawBehaviour): Promise<RawServer> {
  const w = await new RawServer(behaviour).start();
  t.after(() => w.stop());
  return w;
}

/** The balancer at /app in an Express app, one balancer with `members`. */
export async function proxyFor(
  t: TestContext,
  members: MemberOptions[],
  global: Partial<BalancerConfig> = {},
  balancerOptions: Record<string, unknown> = {},
): Promise<Proxy> {
  const p = await startProxy({
    balancers: [{ name: 'app', mount: '/app', members, ...balancerOptions }],
    clock: new FakeClock(),
    ...global,
  });
  t.after(() => p.close());
  return p;
}

/** Runs `fn` over `items`, `width` at a time, in order of start. */
export async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}

/** Sends `requests` (raw request heads) on one client connection; resolves with every byte received. */
export function onOneConnection(base: string, requests: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const u = new URL(base);
    const c = net.connect({ host: u.hostname, port: Number(u.port) });
    let got = '';
    const timer = setTimeout(() => c.destroy(), timeoutMs);
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    c.on('error', () => undefined);
    c.write(requests.join(''));
  });
}
