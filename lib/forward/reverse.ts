/**
 * ProxyPassReverse: Location, Content-Location and URI headers that point at the worker are
 * rewritten to point at the balancer's mount, so a redirect from a worker sends the client back
 * through the balancer. Absolute URLs on the worker's origin become absolute URLs on the client's
 * (Host of the request, http or https as the client connected), relative paths stay relative.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The balancer's two ends: the client-facing mount and the worker-side path it maps to. */
export interface ReverseMap {
  mount: string;
  path: string;
}

const HEADERS = new Set(['location', 'content-location', 'uri']);

/** A Host header fit to be put in front of a path: a name or address and a port, nothing else. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function trimSlash(p: string): string {
  return p.endsWith('/') ? p.slice(0, -1) : p;
}

/** The rest of `path` below `prefix` ("" or starting with "/", "?" or "#"), or undefined. */
function below(prefix: string, path: string): string | undefined {
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  return rest === '' || '/?#'.includes(rest[0]!) ? rest : undefined;
}

/** The client-side URL for `value`, or undefined to leave it as it is. */
export function reverseUrl(
  value: string,
  worker: { url: URL; basePath: string },
  map: ReverseMap,
  clientOrigin: string | undefined,
): string | undefined {
  const prefix = trimSlash(worker.basePath + (map.path === '/' ? '' : trimSlash(map.path)));
  const mount = trimSlash(map.mount);
  if (value.startsWith('/') && !value.startsWith('//')) {
    const rest = below(prefix, value);
    return rest === undefined ? undefined : mount + rest || '/';
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.origin !== worker.url.origin || url.username !== '' || url.password !== '') return undefined;
  const rest = below(prefix, `${url.pathname}${url.search}${url.hash}`);
  if (rest === undefined) return undefined;
  return `${clientOrigin ?? ''}${mount + rest || '/'}`;
}

/** http(s)://host the client used, or undefined when its Host header is absent or not a plain host. */
export function clientOrigin(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (host === undefined || !HOST.test(host)) return undefined;
  return `${(req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http'}://${host}`;
}

/** The worker's raw headers with the ones naming the worker rewritten; the same array when none does. */
export function reverseHeaders(
  raw: readonly string[],
  worker: { url: URL; basePath: string },
  map: ReverseMap,
  req: IncomingMessage,
): readonly string[] {
  let out: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (!HEADERS.has(raw[i]!.toLowerCase())) continue;
    const rewritten = reverseUrl(raw[i + 1]!, worker, map, clientOrigin(req));
    if (rewritten === undefined) continue;
    out ??= raw.slice();
    out[i + 1] = rewritten;
  }
  return out ?? raw;
}
