// Shared by every target process: the PORT/BACKENDS contract, an optional stats server on
// STATS_PORT (memory numbers for --memory; not on the measured port, so the request path carries no
// extra branch), and exit on SIGTERM/SIGINT. Targets listen on 127.0.0.1 only.
import http from 'node:http';

export const PORT = Number(process.env.PORT);
export const BACKENDS = (process.env.BACKENDS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
if (!PORT || BACKENDS.length === 0) {
  console.error('PORT and BACKENDS env vars are required');
  process.exit(2);
}

/** GET /mem on STATS_PORT: process.memoryUsage() as JSON; /mem?gc=1 runs a full GC first (--expose-gc). */
function statsServer(extra) {
  const port = Number(process.env.STATS_PORT);
  if (!port) return;
  http
    .createServer((req, res) => {
      if (req.url.includes('gc=1') && typeof globalThis.gc === 'function') {
        globalThis.gc();
        globalThis.gc();
      }
      const body = JSON.stringify({
        ...process.memoryUsage(),
        gcExposed: typeof globalThis.gc === 'function',
        ...extra(),
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    })
    .listen(port, '127.0.0.1');
}

export function serve(name, handler, extra = () => ({})) {
  const server = http.createServer(handler);
  server.listen(PORT, '127.0.0.1', () => {
    console.log(`${name} (node ${process.version}) on 127.0.0.1:${PORT} -> ${BACKENDS.length} backend URL(s)`);
  });
  statsServer(extra);
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
  return server;
}
