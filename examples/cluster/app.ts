/**
 * Scale-out on one host: N node:cluster workers share one port, each with its own balancer, and all
 * of them share the balancer state on Redis (docs/scale-out.md). The balancer-manager runs in worker
 * 1 only, on its own port; a change made there takes effect in every worker within milliseconds.
 *
 *   redis-server --port 6379 --save '' --appendonly no      (or any Redis you have)
 *   WORKERS=4 PORT=8080 MANAGER_PORT=8081 REDIS_URL=redis://127.0.0.1:6379 node --import tsx examples/cluster/app.ts
 *
 *   curl -si http://127.0.0.1:8080/app/ | grep -i x-cluster-worker     # which worker answered
 *   open http://127.0.0.1:8081/balancer-manager                        # disable a backend: no worker uses it
 *
 * The primary starts three demo backends itself, forks the workers and prints one line,
 * "READY {json}", once every worker listens (the test reads it). SIGINT/SIGTERM stop everything.
 */
import cluster from 'node:cluster';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { balancer, managerRouter, RedisStore } from '../../lib/index.js';

const WORKERS = Number(process.env.WORKERS ?? 4);
const PORT = Number(process.env.PORT ?? 8080);
const MANAGER_PORT = Number(process.env.MANAGER_PORT ?? 8081);
const HOST = process.env.HOST ?? '127.0.0.1';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** One fleet per prefix: several demos (or tests) can share one Redis. */
const PREFIX = process.env.REDIS_PREFIX ?? 'epb-example:';

interface Listening {
  type: 'listening';
  port: number;
  managerPort?: number;
}

if (cluster.isPrimary) await primary();
else await worker();

async function primary(): Promise<void> {
  // Demo backends, in this process: each answers with its name.
  const backends = await Promise.all(
    ['b1', 'b2', 'b3'].map(async (name) => {
      const server = http.createServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
        res.end(JSON.stringify({ backend: name, url: req.url }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      return { name, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    }),
  );
  const env = { BACKENDS: backends.map((b) => b.url).join(','), REDIS_URL, REDIS_PREFIX: PREFIX };
  let port = 0;
  let managerPort = 0;
  let listening = 0;
  for (let i = 1; i <= WORKERS; i++) {
    const w = cluster.fork({ ...env, WORKER_INDEX: String(i) });
    w.on('message', (m: Partial<Listening> | null) => {
      if (m?.type !== 'listening' || m.port === undefined) return;
      port = m.port;
      if (m.managerPort !== undefined) managerPort = m.managerPort;
      if (++listening === WORKERS) {
        const ready = {
          url: `http://${HOST}:${port}`,
          manager: `http://127.0.0.1:${managerPort}/balancer-manager`,
          workers: WORKERS,
          backends: backends.map((b) => ({ name: b.name, url: b.url })),
        };
        console.log(`READY ${JSON.stringify(ready)}`);
      }
    });
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // Workers close their balancer and Redis connections when the primary disconnects them.
    for (const w of Object.values(cluster.workers ?? {})) w?.disconnect();
    const timer = setTimeout(() => process.exit(0), 5000);
    timer.unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        for (const b of backends) b.server.close();
        process.exit(0);
      }
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function worker(): Promise<void> {
  const index = Number(process.env.WORKER_INDEX);
  const store = new RedisStore({
    redis: process.env.REDIS_URL,
    prefix: process.env.REDIS_PREFIX,
    instanceId: `worker-${index}-${process.pid}`,
  });
  const lb = balancer({
    store,
    balancers: [
      {
        name: 'demo',
        mount: '/app',
        growth: 2,
        members: (process.env.BACKENDS ?? '').split(',').map((url) => ({ url })),
      },
    ],
  });
  await lb.ready;
  const app = express();
  app.use((_req, res, next) => {
    res.setHeader('x-cluster-worker', String(index));
    next();
  });
  app.use(lb);
  // Every worker listens on the same port: node:cluster hands the connections round.
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(PORT, HOST, () => resolve()));
  const msg: Listening = { type: 'listening', port: (server.address() as AddressInfo).port };

  // The manager on worker 1 only, on its own port (behind your authentication in real life).
  let managerServer: http.Server | undefined;
  if (index === 1) {
    const admin = express();
    admin.use('/balancer-manager', managerRouter(lb));
    managerServer = http.createServer(admin);
    await new Promise<void>((resolve) => managerServer!.listen(MANAGER_PORT, '127.0.0.1', () => resolve()));
    msg.managerPort = (managerServer.address() as AddressInfo).port;
  }
  process.send?.(msg);

  process.on('disconnect', () => {
    void (async () => {
      server.close();
      managerServer?.close();
      server.closeAllConnections();
      managerServer?.closeAllConnections();
      await lb.close(1000);
      await store.close();
      process.exit(0);
    })();
  });
}
