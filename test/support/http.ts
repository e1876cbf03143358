import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The answering upstream's name (from x-upstream), or undefined when the proxy answered itself. */
  from: string | undefined;
}

export interface RequestOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Send the body with chunked encoding (no content-length). */
  chunked?: boolean;
  timeoutMs?: number;
}

/** One request on a fresh connection; rejects only on a client-side failure (reset, timeout). */
export function request(base: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const headers: http.OutgoingHttpHeaders = { ...opts.headers };
    if (opts.body !== undefined && !opts.chunked) headers['content-length'] = Buffer.byteLength(opts.body);
    const req = http.request(
      { hostname: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = res.headers['x-upstream'];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            from: typeof h === 'string' ? h : undefined,
          });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    if (opts.body !== undefined) {
      if (opts.chunked) {
        const buf = Buffer.from(opts.body);
        const half = Math.floor(buf.length / 2);
        req.write(buf.subarray(0, half));
        req.write(buf.subarray(half));
      } else req.write(opts.body);
    }
    req.end();
  });
}

/** Listens on an ephemeral loopback port; returns the base URL and a close function. */
export async function listen(
  handler: http.RequestListener,
): Promise<{ base: string; server: http.Server; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Sends `n` requests one after another and returns who answered each (status if not 200). */
export async function sequence(base: string, n: number, path = '/app/x', opts: RequestOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await request(base, path, opts);
    out.push(r.status === 200 ? (r.from ?? '?') : `${r.from ?? ''}${r.from ? ':' : ''}${r.status}`);
  }
  return out;
}
