import createDebug from 'debug';

/**
 * Every debug namespace of the library, declared here and nowhere else: enable them all with
 * DEBUG=express-proxy-balancer:*, or a single area (DEBUG=express-proxy-balancer:health).
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
  /** Health state changes and check results. */
  health: root.extend('health'),
  /** Every manager change and refusal. */
  manager: root.extend('manager'),
  /** The shared store's connection and failures. */
  store: root.extend('store'),
  /** Admin and health state applied from other instances. */
  cluster: root.extend('cluster'),
  /** Metrics and traces: their loading and failures. */
  observe: root.extend('observe'),
  /** DNS resolutions of discovered member groups, and the workers they add and remove. */
  discovery: root.extend('discovery'),
};
