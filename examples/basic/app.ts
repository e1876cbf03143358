/**
 * The main example: an Express app that load-balances /app over three backend processes it starts
 * itself, with a hot standby and sticky sessions.
 *
 *   npm run example            (or: PORT=9000 node --import tsx examples/basic/app.ts)
 *
 * The Apache httpd configuration this mirrors:
 *
 *   <Proxy "balancer://basic">
 *     BalancerMember "http://127.0.0.1:<p1>" route=app1 loadfactor=1
 *     BalancerMember "http://127.0.0.1:<p2>" route=app2 loadfactor=1
 *     BalancerMember "http://127.0.0.1:<p3>" route=app3 loadfactor=2
 *     BalancerMember "http://127.0.0.1:<p4>" route=spare status=+H
 *     ProxySet lbmethod=byrequests stickysession=JSESSIONID growth=2
 *   </Proxy>
 *   ProxyPass "/app" "balancer://basic/"
 *
 * It also starts a fifth backend, app4, that is not in the balancer: add it from the balancer-manager
 * (growth=2 leaves room for two more workers).
 *
 * Import `start()` to run it from a test: `const { url, lb, stop } = await start({ port: 0 })`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import express from 'express';
import { balancer, managerRouter, type BalancerMiddleware } from '../../lib/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const backendScript = join(here, 'backend.ts');

export interface Backend {
  name: string;
  route: string;
  pid: number;
  url: string;
}

export interface Started {
  /** Base URL of the Express app, e.g. http://127.0.0.1:8080 */
  url: string;
  /** The balancer middleware (its balancers, workers and close()). */
  lb: BalancerMiddleware;
  /** The backend processes, in member order (the last one is the hot standby). */
  backends: Backend[];
  /** A running backend that is not in the balancer, for trying "Add worker" in the manager. */
  extra: Backend;
  /** Closes the app and the balancer, then stops every backend process and waits for it to exit. */
  stop: () => Promise<void>;
}

export interface StartOptions {
  /** Port to listen on; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
}

/** The backends; each name is also its sticky route. */
const MEMBERS: readonly { name: string; loadfactor?: number; status?: string }[] = [
  { name: 'app1', loadfactor: 1 },
  { name: 'app2', loadfactor: 1 },
  { name: 'app3', loadfactor: 2 },
  { name: 'spare', status: '+H' }, // hot standby: used only when app1..app3 are all unusable
];
/** Started too, but left out of the config: add it from the manager. */
const EXTRA = 'app4';

/** Starts one backend process and resolves once it printed its port. */
function startBackend(name: string, route: string): Promise<{ child: ChildProcess; backend: Backend }> {
  return new Promise((resolvePromise, reject) => {
    // 'ipc' gives the child a channel that closes if this process dies, so it stops too.
    const child = spawn(process.execPath, ['--import', 'tsx', backendScript, name, route], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let buffered = '';
    const timer = setTimeout(() => {
      fail(new Error(`backend ${name} did not report its port within 15 s`));
    }, 15_000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(err);
    };
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      fail(new Error(`backend ${name} exited before listening (${signal ?? `code ${code ?? '?'}`})`));
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      let port: number;
      try {
        ({ port } = JSON.parse(buffered.slice(0, nl)) as { port: number });
      } catch {
        fail(new Error(`backend ${name} printed ${JSON.stringify(buffered.slice(0, nl))}, not {"port":N}`));
        return;
      }
      const pid = child.pid;
      if (pid === undefined) {
        fail(new Error(`backend ${name} has no pid`));
        return;
      }
      resolvePromise({ child, backend: { name, route, pid, url: `http://127.0.0.1:${port}` } });
    });
  });
}

/** Sends `signal` to the process and waits for it to exit; SIGKILL after `graceMs`. */
function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolvePromise();
    }
  });
}

export async function start(options: StartOptions = {}): Promise<Started> {
  const port = options.port ?? 8080;
  const host = options.host ?? '127.0.0.1';

  const names = [...MEMBERS.map((m) => m.name), EXTRA];
  const settled = await Promise.allSettled(names.map((name) => startBackend(name, name)));
  const children = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.child] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(children.map((c) => stopProcess(c)));
    throw failed.reason;
  }
  const started = settled.map((s) => (s as PromiseFulfilledResult<{ backend: Backend }>).value.backend);
  const backends = started.slice(0, MEMBERS.length);
  const extra = started[MEMBERS.length]!;

  const lb = balancer({
    balancers: [
      {
        name: 'basic',
        mount: '/app',
        lbmethod: 'byrequests',
        stickysession: 'JSESSIONID',
        // Room for two workers added at run time from the manager's "Add worker" form.
        growth: 2,
        members: backends.map((b, i) => ({
          url: b.url,
          route: b.route,
          loadfactor: MEMBERS[i]?.loadfactor,
          status: MEMBERS[i]?.status,
        })),
      },
    ],
    // Adds X-Balancer-Worker-Route etc. to responses, so curl -i shows who answered.
    exposeHeaders: true,
  });

  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_req, res) => {
    res
      .type('text/plain')
      .send(
        [
          'express-proxy-balancer example',
          '',
          'GET /app/...           balanced over app1, app2, app3 (loadfactor 1:1:2); "spare" is a hot standby',
          'GET /app/login         a backend sets JSESSIONID=<id>.<route>; send it back and you stay there',
          'GET /balancer-manager  the balancer-manager',
          '',
        ].join('\n'),
      );
  });

  app.use(lb);

  // ---------------------------------------------------------------------------------------------
  // BALANCER-MANAGER MOUNT POINT
  // The balancer-manager router (lib/manager, `managerRouter`) is mounted here. This example listens on
  // 127.0.0.1 only; a real app puts its own authentication in front: app.use(path, requireAdmin, router).
  app.use('/balancer-manager', managerRouter(lb));
  // ---------------------------------------------------------------------------------------------

  const server = http.createServer(app);
  try {
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
  } catch (err) {
    await lb.close(0);
    await Promise.all(children.map((c) => stopProcess(c)));
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      server.closeAllConnections();
      await closed;
      await lb.close(1000);
      await Promise.all(children.map((c) => stopProcess(c)));
    })();
    return stopping;
  };

  return { url, lb, backends, extra, stop };
}

async function main(): Promise<void> {
  const port = process.env.PORT === undefined ? 8080 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT=${process.env.PORT ?? ''} is not a port`);
  const { url, backends, extra, stop } = await start({ port, host: process.env.HOST ?? '127.0.0.1' });

  console.log(`express-proxy-balancer example on ${url}`);
  for (const b of backends) console.log(`  backend ${b.name.padEnd(5)} pid ${b.pid} at ${b.url}`);
  console.log(`  backend ${extra.name.padEnd(5)} pid ${extra.pid} at ${extra.url}  (not in the balancer yet)`);
  console.log('');
  console.log('Try:');
  console.log(`  curl ${url}/app/hello                  # repeat it: of every 4, app3 answers 2 (1:1:2)`);
  console.log(`  curl -c jar.txt ${url}/app/login       # a backend sets JSESSIONID=<id>.<route>`);
  console.log(`  curl -b jar.txt ${url}/app/hello       # sticky: always that backend`);
  console.log(`  curl -i ${url}/app/hello               # X-Balancer-* headers name the worker`);
  console.log(`  open ${url}/balancer-manager           # balancer-manager: drain, disable, re-weight, add`);
  console.log(`  Add app4: in the manager click balancer://basic, put ${extra.url} in "Add New Worker",`);
  console.log('  tick "Are you sure?", Submit. It starts disabled: click it, set Route app4, Disabled Off, Submit.');
  console.log('Ctrl-C stops the app and its backends.');

  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    console.log(`\n${sig}: stopping backends ${[...backends, extra].map((b) => b.pid).join(', ')}`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
