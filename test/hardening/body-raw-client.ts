import net from 'node:net';

/** A client connection that sends exactly the bytes a test gives it and keeps everything it receives. */
export interface RawClient {
  readonly socket: net.Socket;
  /** Everything received so far, as latin1 text. */
  text(): string;
  /** True once the server ended its side of the connection. */
  readonly ended: boolean;
  /** Settles with everything received once the connection is closed. */
  readonly closed: Promise<string>;
}

/** Connects to `base` (http://127.0.0.1:port) and writes `bytes` once connected. */
export async function rawClient(base: string, bytes: string | Buffer): Promise<RawClient> {
  const { hostname, port } = new URL(base);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => undefined);
  let received = '';
  let ended = false;
  socket.on('data', (d: Buffer) => {
    received += d.toString('latin1');
  });
  socket.on('end', () => {
    ended = true;
  });
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(received)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(bytes);
  return {
    socket,
    text: () => received,
    get ended() {
      return ended;
    },
    closed,
  };
}
