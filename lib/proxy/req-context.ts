import { IncomingMessage } from 'node:http';
import type { RequestContext } from '../model/context.js';

/**
 * `req.balancer` without adding a property to an Express request. Express replaces each req's
 * prototype with its app's `request` object, and V8 caches no property-add transition from the
 * map that leaves: adding `balancer` copied req's whole map and descriptors (≈ 1 KB) on every
 * request, ≈ 5 % of the instructions a proxied request costs (callgrind, docs/performance.md).
 * There the context is kept in a WeakMap and `balancer` is an accessor on the app's `request`
 * object, the place Express itself extends (req.query, req.hostname are getters there). On every
 * other request (node:http, Connect) the map transition is cached, so a plain property is kept.
 */
const contexts = new WeakMap<IncomingMessage, RequestContext>();

/** Marks a prototype that has the accessor (inherited by an Express sub-app's `request`). */
const kAccessor = Symbol('express-proxy-balancer.contextAccessor');

type Proto = object & { [kAccessor]?: boolean };

const accessor: PropertyDescriptor = {
  configurable: true,
  enumerable: false,
  get(this: IncomingMessage): RequestContext | undefined {
    return contexts.get(this);
  },
  // An app that assigns req.balancer itself gets the plain property it asked for.
  set(this: IncomingMessage, value: unknown): void {
    Object.defineProperty(this, 'balancer', { value, writable: true, enumerable: true, configurable: true });
  },
};

/** Express's app.request: an object of the app's own (it carries `app`), not a Node class prototype. */
function isAppRequest(proto: object): boolean {
  return Object.hasOwn(proto, 'app');
}

/** Prototypes that refused the accessor (frozen by the app): their requests get the plain property. */
const refused = new WeakSet<object>();

function install(proto: Proto): boolean {
  if (refused.has(proto)) return false;
  try {
    Object.defineProperty(proto, 'balancer', accessor);
    Object.defineProperty(proto, kAccessor, { value: true });
    return true;
  } catch {
    refused.add(proto);
    return false;
  }
}

/** Makes `ctx` the request's `req.balancer`. */
export function attachContext(req: IncomingMessage, ctx: RequestContext): void {
  const proto = Object.getPrototypeOf(req) as Proto | null;
  if (proto !== IncomingMessage.prototype && proto !== null) {
    if (proto[kAccessor] === true || (isAppRequest(proto) && install(proto))) {
      contexts.set(req, ctx);
      return;
    }
  }
  req.balancer = ctx;
}
