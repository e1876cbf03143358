import { STATUS_CODES } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BalancerError, type ErrorCode } from '../errors.js';
import type { GlobalSpec } from '../config/global-spec.js';
import { contextHeaders } from '../model/context.js';
import { log } from '../debug.js';

/** Part of an answer already left (or the client is gone): only cutting the connection is left. */
function started(res: ServerResponse): boolean {
  return res.headersSent || res.destroyed;
}

/**
 * Ends a request the balancer could not forward: the app's onError if it has one, else a short
 * plain-text answer. If part of a response already went out, the connection is cut instead.
 */
export function respondError(
  global: GlobalSpec,
  req: IncomingMessage,
  res: ServerResponse,
  code: ErrorCode,
  status: number,
  message: string,
  cause?: unknown,
  extraHeaders?: Record<string, string>,
): void {
  const error = new BalancerError(code, message, status, { cause });
  log.forward('%s %s -> %d %s: %s', req.method, req.url, status, code, message);
  if (started(res)) {
    res.destroy();
    return;
  }
  // A writeHead that Node refused keeps the reason phrase it was given, and every later writeHead
  // without one would reuse it (and throw again): the error answer has the standard text.
  res.statusMessage = '';
  if (global.onError) {
    try {
      global.onError({ error, status, context: req.balancer }, req, res);
      return;
    } catch (err) {
      log.forward('onError threw: %s', (err as Error).message);
      if (started(res)) {
        res.destroy();
        return;
      }
      res.statusMessage = '';
    }
  }
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...(global.errorHeader ? { 'x-balancer-error': code } : {}),
    ...(global.exposeHeaders && req.balancer ? contextHeaders(req.balancer) : {}),
    ...extraHeaders,
  };
  try {
    res.writeHead(status, headers);
    res.end(`${status} ${STATUS_CODES[status] ?? ''}\n`);
  } catch (err) {
    // Nothing may throw out of the error path (it runs inside the engine's events): cut instead.
    log.forward('the error answer could not be written: %s', (err as Error).message);
    res.destroy();
  }
}
