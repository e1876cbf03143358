import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Hit {
  name: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Mode =
  | 'ok'
  /** Accept the request, then close the socket without answering. */
  | 'close'
  /** Accept the request, then reset the socket. */
  | 'reset'
  /** Never answer. */
  | 'hang'
  /** Answer with this status. */
  | { status: number; body?: string; delayMs?: number; headers?: Record<string, string | string[]> };

/**
 * A real loopback HTTP backend that answers with its name, records every request and can be
 * switched to misbehave, or stopped (connections refused) and started again on the same port.
 */
export class Upstream {
  readonly name: string;
  readonly hits: Hit[] = [];
  mode: Mode = 'ok';
  port = 0;
  #server: http.Server | undefined;
  readonly #sockets = new Set<net.Socket>();

  constructor(name: string) {
    this.name = name;
  }

  /** Client connections open right now. */
  get openConnections(): number {
    return this.#sockets.size;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    const server = http.createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 5000;
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Stops listening and drops every connection: later connects are refused. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.hits.push({ name: this.name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const mode = this.mode;
      if (mode === 'close') return void req.socket.end();
      if (mode === 'reset') return void req.socket.resetAndDestroy();
      if (mode === 'hang') return;
      const status = typeof mode === 'object' ? mode.status : 200;
      const payload = JSON.stringify({
        name: this.name,
        method: req.method,
        url: req.url,
        bytes: body.length,
        body: body.length <= 64 ? body.toString() : undefined,
      });
      const send = (): void => {
        const extra = typeof mode === 'object' ? mode.headers : undefined;
        res.writeHead(status, { 'content-type': 'application/json', 'x-upstream': this.name, ...extra });
        res.end(typeof mode === 'object' && mode.body !== undefined ? mode.body : payload);
      };
      if (typeof mode === 'object' && mode.delayMs) setTimeout(send, mode.delayMs);
      else send();
    });
  }
}

export async function startUpstreams(...names: string[]): Promise<Upstream[]> {
  return Promise.all(names.map((n) => new Upstream(n).start()));
}

export async function stopAll(ups: readonly Upstream[]): Promise<void> {
  await Promise.all(ups.map((u) => u.stop()));
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
