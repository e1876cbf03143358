import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../errors.js';

/** Answers an upgrade request with a bare status line (no handshake) and closes the socket; `code` goes in X-Balancer-Error. */
export function rejectUpgrade(
  socket: Duplex,
  status: 400 | 404 | 501 | 502 | 503 | 504,
  reason: string,
  code?: ErrorCode,
): void {
  if (socket.writable) {
    const tag = code === undefined ? '' : `X-Balancer-Error: ${code}\r\n`;
    socket.end(`HTTP/1.1 ${status} ${reason}\r\n${tag}Connection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}
