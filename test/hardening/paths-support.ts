/**
 * Shared by the path-confinement tests: a raw TCP worker that records each request line exactly as
 * it arrived, a raw client (Node's own client would normalise some targets), and a reference
 * resolver for what a worker makes of the path it received.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Seen {
  /** The request line, as received ("GET /base/x HTTP/1.1"). */
  line: string;
  /** The value of the X-Case request header, when the client sent one. */
  caseId: string | undefined;
}

/** A worker that answers every request head 200 (body: its name) and records its request line. */
export class RecordingWorker {
  readonly seen: Seen[] = [];
  /** Connections ever accepted (a pre-opened connection counts even if it never carries a request). */
  connections = 0;
  port = 0;
  readonly #sockets = new Set<net.Socket>();
  readonly #server: net.Server;

  constructor(readonly name: string) {
    this.#server = net.createServer((socket) => {
      this.connections++;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
      let buf = '';
      socket.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
          this.#record(socket, buf.slice(0, end));
          buf = buf.slice(end + 4);
        }
      });
    });
  }

  #record(socket: net.Socket, head: string): void {
    const lines = head.split('\r\n');
    const caseLine = lines.find((l) => l.toLowerCase().startsWith('x-case:'));
    this.seen.push({ line: lines[0]!, caseId: caseLine?.slice('x-case:'.length).trim() });
    const body = this.name;
    socket.write(`HTTP/1.1 200 OK\r\nX-Upstream: ${this.name}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  }

  /** The paths (request-target of each request line) received so far. */
  get paths(): string[] {
    return this.seen.map((s) => s.line.split(' ')[1]!);
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** The answer to a raw request: status 0 when the connection closed without a status line. */
export interface RawReply {
  status: number;
  raw: string;
  /** The X-Upstream header (the answering worker), or undefined when the proxy answered. */
  from: string | undefined;
}

/** Sends `head` (a complete request head, CRLFs included) on a new connection; resolves when it closes. */
export function rawRequest(base: string, head: string): Promise<RawReply> {
  return new Promise((resolve) => {
    const s = net.connect(Number(new URL(base).port), '127.0.0.1');
    let raw = '';
    s.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(raw);
      const from = /\r\nX-Upstream: ([^\r]*)\r\n/i.exec(raw);
      resolve({ status: status ? Number(status[1]) : 0, raw, from: from?.[1] });
    });
    s.write(head);
  });
}

/** A GET for `target` that closes after the answer; `extra` header lines end in CRLF. */
export function rawGet(base: string, target: string, extra = ''): Promise<RawReply> {
  return rawRequest(base, `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`);
}

/** A WebSocket handshake for `target`, as a browser would send it. */
export function rawWebSocket(base: string, target: string): Promise<RawReply> {
  return rawRequest(
    base,
    `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
}

/**
 * What a worker makes of `target`'s path: RFC 3986 remove_dot_segments, where a segment is a dot
 * segment also when percent-encoded ("%2e") or with path parameters ("..;x", as Tomcat reads it),
 * and everything from "#" on dropped (as url.parse does). ".." stops at the root.
 */
export function workerView(target: string): string {
  const path = target.split('?')[0]!.split('#')[0]!;
  const out: string[] = [];
  const segs = path.split('/').slice(1);
  segs.forEach((seg, i) => {
    const bare = seg.split(';')[0]!.replace(/%2e/gi, '.');
    if (bare === '..') out.pop();
    if (bare === '.' || bare === '..') {
      if (i === segs.length - 1) out.push('');
    } else out.push(seg);
  });
  return `/${out.join('/')}`;
}

/** True when `path` (as the worker resolves it) is `base` or below it. */
export function within(base: string, path: string): boolean {
  const b = base.replace(/\/+$/, '');
  return b === '' || path === b || path.startsWith(`${b}/`) || path.startsWith(`${b};`);
}
