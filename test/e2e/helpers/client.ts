import http from 'node:http';
import https from 'node:https';
import { createHash } from 'node:crypto';

export interface Result {
  /** 0 when no response head arrived. */
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** The response ended normally (not cut, not errored). */
  complete: boolean;
  /** The client-side error, if the exchange broke (before or during the response). */
  error: Error | undefined;
}

export interface SendOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Send the body with chunked transfer-encoding, in a few writes. */
  chunked?: boolean;
  timeoutMs?: number;
  /** Called with the request once it is sent (abort tests). */
  onRequest?: (req: http.ClientRequest) => void;
  /** Leave the request open (the test writes and ends, or destroys, it through onRequest). */
  keepOpen?: boolean;
}

/**
 * One request on a fresh connection. Never rejects: a broken exchange resolves with `error` set
 * and whatever arrived, so tests can assert "truncated, never spliced" precisely.
 */
export function send(base: string, path: string, opts: SendOptions = {}): Promise<Result> {
  return new Promise((resolve) => {
    const u = new URL(base);
    const headers: http.OutgoingHttpHeaders = { ...opts.headers };
    if (opts.body !== undefined && !opts.chunked) headers['content-length'] = Buffer.byteLength(opts.body);
    if (opts.chunked) headers['transfer-encoding'] = 'chunked';
    const out: Result = {
      status: 0,
      headers: {},
      rawHeaders: [],
      body: Buffer.alloc(0),
      complete: false,
      error: undefined,
    };
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      out.body = Buffer.concat(chunks);
      out.error = err;
      req.destroy();
      resolve(out);
    };
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      {
        hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        headers,
        agent: false,
      },
      (res) => {
        out.status = res.statusCode ?? 0;
        out.headers = res.headers;
        out.rawHeaders = res.rawHeaders;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          out.complete = true;
          finish();
        });
        res.on('aborted', () => finish(new Error('response aborted')));
        res.on('error', (err) => finish(err));
        res.on('close', () => finish(out.complete ? undefined : new Error('response closed before its end')));
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', (err) => finish(err));
    opts.onRequest?.(req);
    if (opts.body !== undefined) {
      if (opts.chunked) {
        const buf = Buffer.from(opts.body);
        const step = Math.max(1, Math.ceil(buf.length / 3));
        for (let i = 0; i < buf.length; i += step) req.write(buf.subarray(i, i + step));
      } else req.write(opts.body);
    }
    if (!opts.keepOpen) req.end();
  });
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic, non-repeating-looking bytes (so a shifted or spliced copy never matches). */
export function pattern(size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** The JSON an Upstream answers with. */
export interface Echo {
  name: string;
  method: string;
  url: string;
  bytes: number;
}

export function echo(r: Result): Echo {
  return JSON.parse(r.body.toString()) as Echo;
}
