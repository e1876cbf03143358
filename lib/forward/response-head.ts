import { STATUS_CODES } from 'node:http';

/** Outside RFC 9112's reason-phrase and RFC 9110's field-value (HTAB, SP, VCHAR, obs-text): what Node's writeHead refuses. */
const INVALID_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

/** An RFC 9110 token, what Node's writeHead accepts as a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The reason phrase passed on: the worker's, or the standard text for its status when the worker's
 * has characters a response may not carry (Node's client reads them, its writeHead refuses them).
 * Clients ignore the phrase (RFC 9112 §4), so the answer itself is kept.
 */
export function reasonPhrase(status: number, message: string): string {
  return INVALID_TEXT.test(message) ? (STATUS_CODES[status] ?? '') : message;
}

/** Why a worker's response head cannot be passed on to the client, or undefined when it can. */
export function headProblem(status: number, rawHeaders: readonly string[]): string | undefined {
  // Node's client hands a 101 without Upgrade headers over as a response; no request here asked to switch.
  if (status === 101) return 'a 101 (Switching Protocols) answer to a request without Upgrade';
  if (status < 100 || status > 999) return `an invalid status code ${status}`;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (!TOKEN.test(name)) return `an invalid header name ${JSON.stringify(name)}`;
    if (INVALID_TEXT.test(rawHeaders[i + 1]!)) return `invalid characters in its ${name} header`;
  }
  return undefined;
}
