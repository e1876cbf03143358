import createDebug from 'debug';

/** DEBUG=express-proxy-balancer:manager shows every manager change and refusal. */
export const managerLog = createDebug('express-proxy-balancer:manager');
