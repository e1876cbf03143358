import createDebug from 'debug';

/** One namespace per area: enable with DEBUG=express-proxy-balancer:* (or a single area). */
const root = createDebug('express-proxy-balancer');
export const log = {
  config: root.extend('config'),
  select: root.extend('select'),
  route: root.extend('route'),
  forward: root.extend('forward'),
  state: root.extend('state'),
};
