import { log as debug } from '../debug.js';

/** Every health state change and check result: DEBUG=express-proxy-balancer:health. */
export const log = debug.health;
