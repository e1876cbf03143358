/**
 * Echo backends for the recorded scenarios: one loopback server per member, answering JSON that
 * shows what it received, and switchable to the states the scenarios use. Every request the backends
 * receive is recorded as a hit, so a replay can tell which members a request reached.
 *
 * States (comma separated, later tokens win): ok, down (connections refused), close (read the
 * request, then close without answering), reset, status:NNN (or a bare NNN), delay:MS, size:BYTES
 * (pad the JSON body). A request can override its backend's status, delay and size with the headers
 * the recordings used: x-oracle-status, x-oracle-delay, x-oracle-size.
 */
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';

/** The request header carrying the scenario request id; requests without it are health checks. */
export const REQUEST_ID_HEADER = 'x-conformance-req';

interface State {
  listen: boolean;
  mode: 'ok' | 'close' | 'reset';
  status: number;
  delayMs: number;
  size: number;
}

export interface Hit {
  seq: number;
  t: number;
  port: number;
  method: string | null;
  url: string | null;
  httpVersion: string | null;
  reqId: string | null;
  outcome: string;
  status: number | null;
  headers?: http.IncomingHttpHeaders;
}

export function parseState(spec: string): State {
  const st: State = { listen: true, mode: 'ok', status: 200, delayMs: 0, size: 0 };
  for (const raw of spec.split(',').map((s) => s.trim())) {
    const [k = '', v] = raw.split(':');
    if (k === '' || k === 'ok') Object.assign(st, { listen: true, mode: 'ok', status: 200 });
    else if (k === 'up') st.listen = true;
    else if (k === 'down') st.listen = false;
    else if (k === 'close' || k === 'reset') st.mode = k;
    else if (k === 'status' || /^\d{3}$/.test(k)) Object.assign(st, { mode: 'ok', status: Number(v ?? k) });
    else if (k === 'delay') st.delayMs = Number(v);
    else if (k === 'size') st.size = Number(v);
    else throw new Error(`unknown backend state token '${raw}'`);
  }
  return st;
}

function headerNumber(req: http.IncomingMessage, name: string): number | undefined {
  const v = req.headers[`x-oracle-${name}`];
  return typeof v === 'string' && v !== '' ? Number(v) : undefined;
}

class Backend {
  readonly port: number;
  spec = 'ok';
  state = parseState('ok');
  server: http.Server | undefined;
  readonly sockets = new Map<net.Socket, { requests: number; dropped: boolean }>();

  constructor(port: number) {
    this.port = port;
  }
}

export class EchoBackends {
  readonly #t0 = Date.now();
  readonly #hits: Hit[] = [];
  readonly #backends = new Map<number, Backend>();

  /** Starts one backend per spec on a free port each; returns the ports in order. */
  async start(specs: string[]): Promise<number[]> {
    const ports: number[] = [];
    for (const spec of specs) {
      const server = await this.#listen(undefined, 0);
      const port = (server.address() as AddressInfo).port;
      const b = new Backend(port);
      this.#attach(b, server);
      this.#backends.set(port, b);
      ports.push(port);
      await this.set(port, spec);
    }
    return ports;
  }

  /** Hits with seq >= since. */
  hits(since = 0): Hit[] {
    return this.#hits.filter((h) => h.seq >= since);
  }

  get nextSeq(): number {
    return this.#hits.length;
  }

  /** Changes a backend's state; any change drops its open connections, as a restart would. */
  async set(port: number, spec: string): Promise<void> {
    const b = this.#backends.get(port);
    if (!b) throw new Error(`no backend on port ${port}`);
    const st = parseState(spec);
    const changed = spec !== b.spec || st.listen !== (b.server !== undefined);
    b.spec = spec;
    b.state = st;
    if (!changed) return;
    this.#dropSockets(b);
    if (!st.listen && b.server) await this.#stop(b);
    else if (st.listen && !b.server) this.#attach(b, await this.#listen(b, b.port));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#backends.values()].map((b) => this.#stop(b)));
  }

  #listen(b: Backend | undefined, port: number): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      this.#handle(this.#backends.get((server.address() as AddressInfo).port)!, req, res);
    });
    server.keepAliveTimeout = 300_000;
    server.headersTimeout = 310_000;
    server.requestTimeout = 0;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve(server);
      });
    });
  }

  #attach(b: Backend, server: http.Server): void {
    b.server = server;
    server.on('connection', (s: net.Socket) => {
      const info = { requests: 0, dropped: false };
      b.sockets.set(s, info);
      s.on('close', () => {
        b.sockets.delete(s);
        // Opened and closed without a request: a TCP health check.
        if (info.requests === 0 && !info.dropped) this.#record(b.port, null, 'connect-only', null);
      });
    });
  }

  #dropSockets(b: Backend): void {
    for (const [s, info] of b.sockets) {
      info.dropped = true;
      s.destroy();
    }
    b.sockets.clear();
  }

  async #stop(b: Backend): Promise<void> {
    const server = b.server;
    b.server = undefined;
    this.#dropSockets(b);
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #record(port: number, req: http.IncomingMessage | null, outcome: string, status: number | null): void {
    const id = req?.headers[REQUEST_ID_HEADER];
    const reqId = typeof id === 'string' ? id : null;
    this.#hits.push({
      seq: this.#hits.length,
      t: Date.now() - this.#t0,
      port,
      method: req?.method ?? null,
      url: req?.url ?? null,
      httpVersion: req?.httpVersion ?? null,
      reqId,
      outcome,
      status,
      ...(req && reqId === null ? { headers: req.headers } : {}),
    });
  }

  #handle(b: Backend, req: http.IncomingMessage, res: http.ServerResponse): void {
    const info = b.sockets.get(req.socket);
    if (info) info.requests++;
    const st = b.state;
    if (st.mode !== 'ok') {
      this.#record(b.port, req, st.mode, null);
      if (st.mode === 'reset') req.socket.resetAndDestroy();
      else req.socket.destroy();
      return;
    }
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      const status = headerNumber(req, 'status') ?? st.status;
      const delayMs = headerNumber(req, 'delay') ?? st.delayMs;
      const size = headerNumber(req, 'size') ?? st.size;
      const obj: Record<string, unknown> = { port: b.port, method: req.method, url: req.url, headers: req.headers };
      obj.bodyBytes = bodyBytes;
      let body = JSON.stringify(obj);
      if (size > body.length) {
        obj.pad = 'x'.repeat(Math.max(0, size - JSON.stringify({ ...obj, pad: '' }).length));
        body = JSON.stringify(obj);
      }
      this.#record(b.port, req, delayMs ? `delayed:${delayMs}` : 'answered', status);
      const send = (): void => {
        if (res.destroyed || req.socket.destroyed) return;
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-backend-port': String(b.port),
        });
        res.end(body);
      };
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  }
}
