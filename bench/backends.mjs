// Node backends (BACKEND=node, or when nginx is not installed): ONE process, ONE thread, one
// node:http server per port in BACKEND_PORTS. Any path answers 200 with the 100-byte body naming
// the port; a path containing "big64k" answers 64 KiB. Request bodies are drained first.
import http from 'node:http';
import { backendBody, bigBody } from './lib/body.mjs';

const ports = (process.env.BACKEND_PORTS ?? '')
  .split(',')
  .map((p) => Number(p.trim()))
  .filter(Boolean);
if (!ports.length) {
  console.error('BACKEND_PORTS is required');
  process.exit(2);
}
const big = Buffer.from(bigBody());
const servers = ports.map((port) => {
  const small = Buffer.from(backendBody(port));
  const server = http.createServer((req, res) => {
    const body = req.url.includes('big64k') ? big : small;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000; // like nginx's keepalive_timeout 65
  server.maxRequestsPerSocket = 0; // never close keep-alive connections by count
  server.listen(port, '127.0.0.1', () => console.log(`node backend listening on 127.0.0.1:${port}`));
  return server;
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    for (const s of servers) s.close();
    process.exit(0);
  });
}
