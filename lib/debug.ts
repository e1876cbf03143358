import createDebug from 'debug';

/**
 * One namespace per area: enable with DEBUG=express-proxy-balancer:* (or a single area).
 * On the request path, guard calls with `log.x.enabled`: a disabled logger still costs a call and
 * an arguments array per request.
 */
const root = createDebug('express-proxy-balancer');
export const log = {
  config: root.extend('config'),
  select: root.extend('select'),
  route: root.extend('route'),
  forward: root.extend('forward'),
  state: root.extend('state'),
  /** Health checks and worker lifecycle events. */
  health: root.extend('health'),
};
