import type { IncomingMessage } from 'node:http';
import { ManagerError } from './types.js';

export type Fields = Record<string, unknown>;

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function readRaw(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return reject(tooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tooLarge(limit: number): ManagerError {
  return new ManagerError('ERR_MANAGER_BODY', 413, `the request body is larger than ${limit} bytes`);
}

function parseUrlencoded(text: string): Fields {
  const out = Object.create(null) as Fields;
  for (const [k, v] of new URLSearchParams(text)) {
    if (Object.hasOwn(out, k)) throw new ManagerError('ERR_MANAGER_BODY', 400, `field ${k} is given twice`, k);
    out[k] = v;
  }
  return out;
}

function parseJson(text: string): Fields {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ManagerError('ERR_MANAGER_BODY', 400, 'the body is not valid JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ManagerError('ERR_MANAGER_BODY', 400, 'the body is not a JSON object');
  }
  return data as Fields;
}

/** A body an earlier body parser (express.json(), express.urlencoded()) already read. */
function parsedBefore(req: IncomingMessage): Fields | undefined {
  const body = (req as IncomingMessage & { body?: unknown }).body;
  if (!req.readableEnded || typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return { ...(body as Fields) };
}

/** Reads and parses a urlencoded or JSON body of at most `limit` bytes (no express needed). */
export async function readFields(req: IncomingMessage, limit: number): Promise<{ fields: Fields; json: boolean }> {
  const type = mediaType(req);
  const json = type === 'application/json' || type.endsWith('+json');
  if (!json && type !== 'application/x-www-form-urlencoded') {
    throw new ManagerError('ERR_MANAGER_BODY', 415, 'send application/x-www-form-urlencoded or application/json');
  }
  const before = parsedBefore(req);
  if (before) return { fields: before, json };
  const text = await readRaw(req, limit);
  return { fields: json ? parseJson(text) : parseUrlencoded(text), json };
}
