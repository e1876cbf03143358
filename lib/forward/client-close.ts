/** A client's connection: a net.Socket, or the Duplex an upgrade hands over. */
export interface ClientSocket {
  once(event: 'close', fn: () => void): unknown;
}

const kOnClose = Symbol('express-proxy-balancer.onClientClose');

/** What is told: an object, not a closure, so watching costs no allocation per request. */
export interface ClientCloseWatcher {
  clientClosed(): void;
}

// An array, not a Set: it holds one entry except while requests are pipelined.
type Watched = ClientSocket & { [kOnClose]?: ClientCloseWatcher[] };

/**
 * Tells `watcher` when the client's socket closes. One 'close' listener per connection, however many
 * requests it carries, instead of adding and removing one per request: keep-alive connections
 * carry thousands.
 */
export function onClientClose(socket: ClientSocket, watcher: ClientCloseWatcher): void {
  const s = socket as Watched;
  let fns = s[kOnClose];
  if (fns === undefined) {
    fns = [];
    s[kOnClose] = fns;
    socket.once('close', closed);
  }
  fns.push(watcher);
}

/** Undoes onClientClose. */
export function offClientClose(socket: ClientSocket, watcher: ClientCloseWatcher): void {
  const fns = (socket as Watched)[kOnClose];
  if (fns === undefined) return;
  const i = fns.lastIndexOf(watcher);
  if (i === fns.length - 1) fns.pop();
  else if (i !== -1) fns.splice(i, 1);
}

function closed(this: Watched): void {
  const fns = this[kOnClose];
  if (fns === undefined) return;
  this[kOnClose] = [];
  for (const w of fns) w.clientClosed();
}
