import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface Backend<S extends net.Server = net.Server> {
  /** http://host:port, IPv6 in brackets. */
  url: string;
  port: number;
  server: S;
  /** Sockets currently open to this backend. */
  readonly sockets: ReadonlySet<net.Socket>;
  close(): Promise<void>;
}

async function track<S extends net.Server>(server: S, host: string, scheme = 'http'): Promise<Backend<S>> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    server,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A plain HTTP backend with a custom handler. */
export function httpBackend(handler: http.RequestListener, host = '127.0.0.1'): Promise<Backend<http.Server>> {
  return track(http.createServer(handler), host);
}

/** Any server already created (https, …), listened on an ephemeral port and tracked. */
export function serverBackend<S extends net.Server>(
  server: S,
  host = '127.0.0.1',
  scheme = 'http',
): Promise<Backend<S>> {
  return track(server, host, scheme);
}

/** A raw TCP backend: `onSocket` writes whatever bytes the test wants. */
export function rawBackend(onSocket: (socket: net.Socket) => void, host = '127.0.0.1'): Promise<Backend> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    onSocket(s);
  });
  return track(server, host);
}

/** Reads one request head (up to the blank line) from a raw socket. */
export function onRequestHead(socket: net.Socket, cb: (head: string) => void): void {
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString('latin1');
    if (buf.includes('\r\n\r\n')) {
      socket.off('data', onData);
      cb(buf.slice(0, buf.indexOf('\r\n\r\n')));
    }
  };
  socket.on('data', onData);
}

export interface Blackhole {
  port: number;
  close(): void;
}

/**
 * A loopback port whose connects neither succeed nor fail: a listener with backlog 0 that never
 * accepts, its accept queue filled by one connection, so Linux drops every further SYN and a
 * connect stays pending (the connect-timeout path). Node always accepts, so the listener is a
 * python3 child. Undefined when python3 is missing or the queue does not block a connect.
 */
export async function blackhole(): Promise<Blackhole | undefined> {
  if (process.platform !== 'linux') return undefined;
  // The system interpreter starts fastest (a pyenv shim can take over a second).
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const script = [
    'import socket, sys',
    's = socket.socket()',
    "s.bind(('127.0.0.1', 0))",
    's.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn(python, ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => undefined);
  const port = await new Promise<number>((resolve) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', () => resolve(0)); // no python3
    child.once('exit', () => resolve(0));
  });
  const fillers: net.Socket[] = [];
  const close = (): void => {
    for (const s of fillers) s.destroy();
    child.stdin.end();
    child.kill();
  };
  if (!port) {
    close();
    return undefined;
  }
  // Fill the accept queue, then check that a further connect really stays pending.
  const connects = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      fillers.push(s);
      s.on('error', () => resolve(true));
      const t = setTimeout(() => resolve(false), ms);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  await connects(1000);
  const settled = await connects(150);
  if (settled) {
    close();
    return undefined;
  }
  return { port, close };
}

/** True if a listener can bind ::1. */
export async function hasIpv6Loopback(): Promise<boolean> {
  const s = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '::1', () => resolve());
    });
    await new Promise<void>((r) => s.close(() => r()));
    return true;
  } catch {
    return false;
  }
}
