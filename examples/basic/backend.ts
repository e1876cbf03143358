/**
 * A tiny backend for the example: a node:http server on an ephemeral 127.0.0.1 port that answers
 * every request with JSON naming itself. It prints one line, `{"port":N}`, on stdout once listening.
 *
 *   node --import tsx examples/basic/backend.ts <name> [route]
 *
 * GET /login sets a JSESSIONID cookie ending in ".<route>", the way Tomcat's jvmRoute does, so
 * the balancer's sticky sessions send the next requests of that client back here.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const name = process.argv[2] ?? `backend-${process.pid}`;
const route = process.argv[3] ?? name;
let served = 0;

const server = http.createServer((req, res) => {
  served++;
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'x-upstream': name };
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/login') {
    headers['set-cookie'] = `JSESSIONID=${randomBytes(8).toString('hex')}.${route}; Path=/; HttpOnly`;
  }
  // Drain the request body (if any) before answering.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(
      JSON.stringify({
        backend: name,
        route,
        pid: process.pid,
        method: req.method,
        url: req.url,
        cookie: req.headers.cookie ?? null,
        served,
      }) + '\n',
    );
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ port }) + '\n');
});

function shutdown(): void {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  // Do not hang on a stuck connection.
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// Stop when the parent goes away (its IPC channel closes), so no backend outlives the example.
process.on('disconnect', shutdown);
