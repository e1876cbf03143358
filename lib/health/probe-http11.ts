import http from 'node:http';
import https from 'node:https';
import { errorCode, tlsOptions, type CheckTarget } from './connect.js';
import { BODY_LIMIT } from './probe-http10.js';
import { failed, type CheckResult } from './result.js';

/**
 * The HTTP/1.1 checks (Apache OPTIONS11/HEAD11/GET11): node:http on a fresh connection (agent: false,
 * so "Connection: close"), Host the only other header. Reads at most BODY_LIMIT bytes of body.
 */
export function probeHttp11(
  target: CheckTarget,
  method: 'OPTIONS' | 'HEAD' | 'GET',
  uri: string,
  signal: AbortSignal,
): Promise<{ status: number; body: string } | CheckResult> {
  return new Promise((resolve) => {
    const options: https.RequestOptions = {
      host: target.hostname,
      port: target.port,
      method,
      path: method === 'OPTIONS' ? '*' : uri,
      headers: { host: target.host },
      setHost: false,
      agent: false,
      ...(target.secure && tlsOptions(target.worker)),
    };
    let settled = false;
    const done = (r: { status: number; body: string } | CheckResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(r);
    };
    const req = (target.secure ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (size >= BODY_LIMIT) finish();
      });
      res.once('end', finish);
      res.once('error', finish);
    });
    const onAbort = (): void => done(failed('timeout'));
    req.once('error', (err) => done(failed(`request failed: ${errorCode(err)}`)));
    signal.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
