import type { IncomingMessage } from 'node:http';
import { ConfigError } from '../errors.js';

/** The `mount` option as a prefix without a trailing slash ("" for "/"), or undefined when unset. */
export function mountPrefix(mount: unknown): string | undefined {
  if (mount === undefined) return undefined;
  if (typeof mount !== 'string' || !mount.startsWith('/') || /[?#\s\\]/.test(mount)) {
    throw new ConfigError('manager.mount', mount, 'is not a path starting with "/" (e.g. "/balancer-manager")');
  }
  return mount.replace(/\/+$/, '');
}

/**
 * The request's URL relative to the manager: on node:http, where nothing strips the prefix, the part
 * after `prefix`; undefined for a URL outside it. Under Express's `app.use(prefix, router)` the URL is
 * already relative, and is kept.
 */
export function relativeUrl(
  prefix: string | undefined,
  req: IncomingMessage & { baseUrl?: unknown },
): string | undefined {
  const url = req.url ?? '/';
  if (prefix === undefined) return url;
  if (typeof req.baseUrl === 'string' && req.baseUrl.replace(/\/+$/, '') === prefix) return url;
  if (!url.startsWith(prefix)) return undefined;
  const rest = url.slice(prefix.length);
  if (rest === '') return '/';
  if (rest.startsWith('?')) return `/${rest}`;
  return rest.startsWith('/') ? rest : undefined;
}
