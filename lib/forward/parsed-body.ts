import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import querystring from 'node:querystring';
import type { BodyPlan } from './body.js';

/** How a body an earlier middleware read was rebuilt, for the warning that says so. */
export type ParsedFrom = 'rawBody' | 'JSON' | 'form' | 'Buffer' | 'text';

export type Rebuilt = { bytes: Buffer; from: ParsedFrom } | { cause: string };

/** The three encodings Node can write that body parsers also decode; others are refused, not guessed. */
const CHARSETS: Record<string, BufferEncoding> = {
  'utf-8': 'utf8',
  utf8: 'utf8',
  'iso-8859-1': 'latin1',
  latin1: 'latin1',
  'utf-16le': 'utf16le',
};

const UNKNOWN_CHARSET = { cause: 'the Content-Type charset is not one the balancer can re-encode' };

function mediaType(headers: IncomingHttpHeaders): { type: string; charset: string | undefined } {
  const [type = '', ...params] = (headers['content-type'] ?? '').split(';');
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/^"(.*)"$/, '$1');
  return { type: type.trim().toLowerCase(), charset };
}

/** undefined for what JSON cannot say (a cycle, a BigInt; a function gives undefined whatever the typing says). */
function toJson(body: unknown): string | undefined {
  try {
    return JSON.stringify(body);
  } catch {
    return undefined;
  }
}

/** A form body the way querystring.parse gives it: flat, each value a scalar or a list of scalars. */
function flatForm(body: object): boolean {
  const scalar = (v: unknown): boolean => ['string', 'number', 'boolean', 'bigint'].includes(typeof v);
  return Object.values(body).every((v) => scalar(v) || (Array.isArray(v) && v.every(scalar)));
}

/**
 * The body of a request an earlier middleware already read, rebuilt as http-proxy-middleware's
 * fixRequestBody does: `req.rawBody` (a Buffer) as is, else `req.body` re-serialised by the
 * request's Content-Type (a Buffer or string from express.raw/express.text as is, JSON, flat
 * urlencoded forms). Anything else cannot be rebuilt faithfully and is refused with its cause.
 */
export function rebuildBody(req: IncomingMessage, headers: IncomingHttpHeaders): Rebuilt {
  const { rawBody, body } = req as { rawBody?: unknown; body?: unknown };
  if (Buffer.isBuffer(rawBody)) return { bytes: rawBody, from: 'rawBody' };
  if (body === undefined) return { cause: 'req.body is not set' };
  if (Buffer.isBuffer(body)) return { bytes: body, from: 'Buffer' };
  const { type, charset } = mediaType(headers);
  const encoding = CHARSETS[charset ?? 'utf-8'];
  if (encoding === undefined) return UNKNOWN_CHARSET;
  if (typeof body === 'string') return { bytes: Buffer.from(body, encoding), from: 'text' };
  if (type === 'application/json' || type.endsWith('+json')) {
    const json = toJson(body);
    return json === undefined
      ? { cause: 'req.body cannot be serialised as JSON' }
      : { bytes: Buffer.from(json, encoding), from: 'JSON' };
  }
  if (type === 'application/x-www-form-urlencoded' && typeof body === 'object' && body !== null) {
    // querystring percent-encodes UTF-8; a form in another charset would reach the worker altered.
    if (encoding !== 'utf8') return UNKNOWN_CHARSET;
    if (!flatForm(body)) return { cause: 'req.body has nested values, which a form body cannot carry' };
    return { bytes: Buffer.from(querystring.stringify(body as querystring.ParsedUrlQueryInput)), from: 'form' };
  }
  return { cause: 'req.body cannot be re-serialised for its Content-Type' };
}

/**
 * The plan for a request whose body an earlier middleware read: the rebuilt bytes, framed by their
 * own length (the headers, req.headers, are updated so every attempt sends them), or 'consumed'.
 */
export function parsedBodyPlan(req: IncomingMessage, headers: IncomingHttpHeaders): BodyPlan {
  const r = rebuildBody(req, headers);
  if ('cause' in r) return { kind: 'consumed', cause: r.cause };
  headers['content-length'] = String(r.bytes.length);
  delete headers['transfer-encoding'];
  // Body parsers inflate gzip/deflate before parsing: what is re-serialised is no longer encoded.
  if (r.from !== 'rawBody') delete headers['content-encoding'];
  const plan: BodyPlan = { kind: 'buffered', chunks: [r.bytes], bytes: r.bytes.length };
  if (r.from !== 'rawBody') plan.parsed = r.from;
  return plan;
}
