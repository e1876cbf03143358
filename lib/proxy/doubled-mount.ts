import type { IncomingMessage } from 'node:http';
import type { Balancer } from '../balancer/balancer.js';
import type { Notices } from '../logger.js';

/** What Express adds to a request: the path app.use() matched (removed from req.url) and the URL as it came. */
interface ExpressPaths {
  baseUrl?: unknown;
  originalUrl?: unknown;
}

/**
 * `app.use('/app', balancer({ … mount: '/app' }))`: Express removes "/app" from req.url before the
 * middleware runs, so the mount never matches and every request falls through to a bare 404.
 * Called for requests no mount took: says so once per balancer when the URL as it came would
 * have matched.
 */
export function doubledMount(
  req: IncomingMessage,
  route: (url: string) => { b: Balancer } | symbol | undefined,
  notices: Notices,
): void {
  const { baseUrl, originalUrl } = req as IncomingMessage & ExpressPaths;
  if (typeof baseUrl !== 'string' || baseUrl === '' || typeof originalUrl !== 'string') return;
  const hit = route(originalUrl);
  if (!hit || typeof hit === 'symbol') return;
  const base = JSON.stringify(baseUrl);
  notices.once(
    'warn',
    `doubled mount ${hit.b.name}`,
    `${hit.b.id} has mount ${JSON.stringify(hit.b.mount)} and is also used under ${base} (app.use(${base}, …)): ` +
      `Express removes ${base} from the path before the balancer sees it, so its mount does not match; ` +
      `use app.use(balancer(config)) without a path, or a mount relative to ${base}`,
  );
}
