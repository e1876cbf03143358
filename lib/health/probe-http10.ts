import { errorCode, openSocket, type CheckTarget } from './connect.js';
import { failed, type CheckResult } from './result.js';

/** Body bytes kept for hcbody; the rest of a large answer is not read. */
export const BODY_LIMIT = 64 * 1024;

interface Head {
  status: number;
  headerEnd: number;
  contentLength: number | undefined;
}

function parseHead(buf: Buffer): Head | undefined | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > 16 * 1024 ? null : undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/\d\.\d (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!m) return null;
  const cl = lines.map((l) => /^content-length:\s*(\d+)\s*$/i.exec(l)).find(Boolean);
  return { status: Number(m[1]), headerEnd: end + 4, contentLength: cl ? Number(cl[1]) : undefined };
}

/**
 * Apache's HTTP/1.0 checks, byte for byte: "GET /health HTTP/1.0" (or HEAD, or "OPTIONS *") with
 * only a Host header, on a fresh connection. Node's client cannot send HTTP/1.0, so the request is
 * written by hand; an HTTP/1.0 answer is never chunked, so it ends at Content-Length or close.
 */
export function probeHttp10(
  target: CheckTarget,
  method: 'OPTIONS' | 'HEAD' | 'GET',
  uri: string,
  signal: AbortSignal,
): Promise<{ status: number; body: string } | CheckResult> {
  return new Promise((resolve) => {
    const { socket, readyEvent } = openSocket(target, true);
    const chunks: Buffer[] = [];
    let size = 0;
    let head: Head | undefined;
    const done = (r: { status: number; body: string } | CheckResult): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const finish = (): void => {
      const buf = Buffer.concat(chunks);
      head ??= parseHead(buf) ?? undefined;
      if (!head) return done(failed(size === 0 ? 'closed without an answer' : 'answer is not HTTP'));
      const body = method === 'HEAD' ? '' : buf.subarray(head.headerEnd, head.headerEnd + BODY_LIMIT).toString('utf8');
      done({ status: head.status, body });
    };
    const onAbort = (): void => done(failed(head ? 'timeout while reading the body' : 'timeout'));
    socket.once(readyEvent, () => {
      socket.write(`${method} ${method === 'OPTIONS' ? '*' : uri} HTTP/1.0\r\nHost: ${target.host}\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (!head) {
        const parsed = parseHead(Buffer.concat(chunks));
        if (parsed === null) return done(failed('answer is not HTTP'));
        head = parsed;
      }
      if (!head) return;
      const bodyBytes = size - head.headerEnd;
      const complete = method === 'HEAD' || (head.contentLength !== undefined && bodyBytes >= head.contentLength);
      if (complete || bodyBytes >= BODY_LIMIT) finish();
    });
    socket.once('end', finish);
    socket.once('error', (err) =>
      head ? finish() : done(failed(`${size ? 'read' : 'connect'} failed: ${errorCode(err)}`)),
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
