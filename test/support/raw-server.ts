import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** What a raw backend does with each connection once it has read a request head. */
export type RawBehaviour = (socket: net.Socket, head: string) => void;

/**
 * A TCP server that speaks just enough HTTP to misbehave on purpose: it waits for a request head
 * (or not, with `onConnect`), then runs `behaviour`. Counts requests seen and open sockets.
 */
export class RawServer {
  port = 0;
  requests = 0;
  readonly sockets = new Set<net.Socket>();
  readonly #server: net.Server;

  constructor(behaviour: RawBehaviour) {
    this.#server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buf = '';
      // Bodyless requests only: every complete head (a kept-alive connection carries several) gets the behaviour.
      const onData = (d: Buffer): void => {
        buf += d.toString('latin1');
        for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
          const head = buf.slice(0, end);
          buf = buf.slice(end + 4);
          this.requests++;
          behaviour(socket, head);
        }
      };
      socket.on('data', onData);
    });
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
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

export const behaviours = {
  ok(body = 'ok'): RawBehaviour {
    return (s) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nX-Upstream: raw\r\n\r\n${body}`);
  },
  status(code: number): RawBehaviour {
    return (s) => s.write(`HTTP/1.1 ${code} Oops\r\nContent-Length: 4\r\nX-Upstream: raw\r\n\r\noops`);
  },
  closeBeforeStatus(): RawBehaviour {
    return (s) => s.end();
  },
  resetBeforeResponse(): RawBehaviour {
    return (s) => s.resetAndDestroy();
  },
  garbage(): RawBehaviour {
    return (s) => s.end('hello, this is not HTTP\r\n\r\n');
  },
  hang(): RawBehaviour {
    return () => undefined;
  },
  /** Sends the status line and one header, then stalls. */
  slowHeaders(): RawBehaviour {
    return (s) => s.write('HTTP/1.1 200 OK\r\nX-Slow: 1\r\n');
  },
  /** Promises 1000 bytes, sends 10, then dies. */
  dieMidBody(): RawBehaviour {
    return (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Upstream: raw\r\n\r\n0123456789');
      setTimeout(() => s.destroy(), 20);
    };
  },
  /** A chunked response that dies without its last chunk. */
  dieMidChunked(): RawBehaviour {
    return (s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Upstream: raw\r\n\r\na\r\n0123456789\r\n');
      setTimeout(() => s.destroy(), 20);
    };
  },
  /** Response headers larger than Node's 16 KiB limit. */
  hugeHeaders(): RawBehaviour {
    return (s) => s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(70_000)}\r\nContent-Length: 2\r\n\r\nok`);
  },
};
