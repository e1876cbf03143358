import type { Socket } from 'node:net';

const kOnClose = Symbol('express-proxy-balancer.onClientClose');
type Watched = Socket & { [kOnClose]?: Set<() => void> };

/**
 * Calls `fn` when the client's socket closes. One 'close' listener per connection, however many
 * requests it carries, instead of adding and removing one per request: keep-alive connections
 * carry thousands.
 */
export function onClientClose(socket: Socket, fn: () => void): void {
  const s = socket as Watched;
  let fns = s[kOnClose];
  if (fns === undefined) {
    fns = new Set();
    s[kOnClose] = fns;
    socket.once('close', closed);
  }
  fns.add(fn);
}

/** Undoes onClientClose. */
export function offClientClose(socket: Socket, fn: () => void): void {
  (socket as Watched)[kOnClose]?.delete(fn);
}

function closed(this: Watched): void {
  const fns = this[kOnClose];
  if (fns === undefined) return;
  for (const fn of [...fns]) fn();
  fns.clear();
}
