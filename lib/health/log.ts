import createDebug from 'debug';

/** Every health state change and check result: DEBUG=express-proxy-balancer:health. */
export const log = createDebug('express-proxy-balancer:health');
