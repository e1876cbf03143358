/**
 * What mod_proxy_balancer exports as BALANCER_* environment variables, per request. Set on
 * `req.balancer` for the app (loggers, onError) and optionally sent as X-Balancer-* headers.
 */
export interface RequestContext {
  /** BALANCER_NAME, e.g. "balancer://app". */
  balancer: string;
  /** BALANCER_WORKER_NAME: the worker that took the last attempt. */
  worker: string | undefined;
  /** BALANCER_WORKER_ROUTE: that worker's route ("" when it has none). */
  workerRoute: string | undefined;
  /** BALANCER_SESSION_STICKY: the cookie or URL parameter name the route came from. */
  sessionSticky: string | undefined;
  /** BALANCER_SESSION_ROUTE: the route the client asked for. */
  sessionRoute: string | undefined;
  /** BALANCER_ROUTE_CHANGED: the client should be told its route changed. */
  routeChanged: boolean;
  /** Workers tried for this request, in order. */
  tried: string[];
  /** The request's key for the hash scheduler (the balancer's `hashkey`), when it has one. */
  hashKey?: string;
}

declare module 'node:http' {
  interface IncomingMessage {
    /** Set by express-proxy-balancer on requests it handles. */
    balancer?: RequestContext;
  }
}

export function createContext(balancerName: string): RequestContext {
  return {
    balancer: balancerName,
    worker: undefined,
    workerRoute: undefined,
    sessionSticky: undefined,
    sessionRoute: undefined,
    routeChanged: false,
    tried: [],
  };
}

/**
 * The context as Apache-named response headers (the names test/conformance reads). Like Apache's env,
 * nothing is set until a worker was chosen; an empty route is still sent.
 */
export function contextHeaders(ctx: RequestContext): Record<string, string> {
  const h: Record<string, string> = {};
  if (ctx.worker === undefined) return h;
  h['x-balancer-name'] = ctx.balancer;
  h['x-balancer-worker-name'] = ctx.worker;
  h['x-balancer-worker-route'] = ctx.workerRoute ?? '';
  if (ctx.routeChanged) h['x-balancer-route-changed'] = '1';
  if (ctx.sessionSticky !== undefined) h['x-balancer-session-sticky'] = ctx.sessionSticky;
  if (ctx.sessionRoute !== undefined) h['x-balancer-session-route'] = ctx.sessionRoute;
  return h;
}
