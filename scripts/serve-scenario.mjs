#!/usr/bin/env node
// Starts an Express app configured from an oracle scenario file (its `balancer` block and `mount`),
// so any scenario can be replayed against the library:
//
//   node scripts/serve-scenario.mjs ../shared/oracle/scenarios/sticky-cookie.json --port 18085
//   node ../shared/oracle/replay.mjs ../shared/oracle/scenarios/sticky-cookie.json \
//        --base http://127.0.0.1:18085 --compare ../shared/oracle/expected/sticky-cookie.json
//
// Apache values are translated: seconds become milliseconds, "On"/"Off" booleans. The balancer's
// context goes out as X-Balancer-* headers (what the oracle reads for --env) and, when the library
// has a manager, it is mounted at /balancer-manager. Stops on SIGTERM/SIGINT.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const HERE = path.dirname(fileURLToPath(import.meta.url));
register();
const lib = await import(path.join(HERE, '..', 'lib', 'index.ts'));
const { default: express } = await import('express');

const SECONDS = new Set(['retry', 'timeout', 'connectiontimeout']);
// mod_proxy_hcheck: a bare hcinterval is seconds; with a unit ("500ms") it passes through.
const HC_NUMBERS = new Set(['hcfails', 'hcpasses']);
const BOOLEANS = new Set(['nofailover', 'scolonpathdelim', 'failontimeout', 'forcerecovery']);

function apacheValue(key, value) {
  if (BOOLEANS.has(key)) return value === true || /^on$/i.test(String(value));
  if (SECONDS.has(key)) return `${value}s`;
  if (key === 'hcinterval') return /^\d+$/.test(String(value)) ? `${value}s` : value;
  if (HC_NUMBERS.has(key)) return Number(value);
  if (key === 'maxattempts' || key === 'growth' || key === 'lbset') return Number(value);
  if (key === 'stickysessionsep' && /^off$/i.test(String(value))) return false;
  return value;
}

function translate(params = {}, known) {
  const out = {};
  for (const [k, v] of Object.entries(params)) {
    if (known && !known.has(k)) throw new Error(`scenario parameter ${k} is not supported yet`);
    out[k] = apacheValue(k, v);
  }
  return out;
}

const MEMBER_PARAMS = new Set([
  'timeout',
  'connectiontimeout',
  'max',
  'hcmethod',
  'hcuri',
  'hcinterval',
  'hcfails',
  'hcpasses',
]);

export function configFromScenario(scenario, { host = '127.0.0.1' } = {}) {
  const b = scenario.balancer ?? {};
  const mount = scenario.mount ?? { path: '/app/', url: '/' };
  const members = (b.members ?? [])
    .map((m, i) => ({ ...m, port: m.port ?? 18011 + i }))
    .filter((m) => m.configured !== false)
    .map((m) => {
      const member = { url: `http://${host}:${m.port}`, ...translate(m.params, MEMBER_PARAMS) };
      for (const k of ['loadfactor', 'route', 'redirect', 'status', 'lbset', 'retry']) {
        if (m[k] !== undefined) member[k] = apacheValue(k, m[k]);
      }
      return member;
    });
  return {
    serverName: host,
    exposeHeaders: true,
    balancers: [
      {
        name: b.name ?? 'oracle',
        mount: mount.path,
        path: mount.url,
        lbmethod: b.lbmethod ?? 'byrequests',
        ...translate(b.params),
        members,
      },
    ],
  };
}

function parseArgs(argv) {
  const args = { port: 18085, host: '127.0.0.1', file: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') args.port = Number(argv[++i]);
    else if (argv[i] === '--host') args.host = argv[++i];
    else args.file = argv[i];
  }
  if (!args.file) {
    console.error('usage: node scripts/serve-scenario.mjs SCENARIO.json [--port N] [--host 127.0.0.1]');
    process.exit(2);
  }
  return args;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = parseArgs(process.argv.slice(2));
  const scenario = JSON.parse(fs.readFileSync(args.file, 'utf8'));
  const lb = lib.balancer(configFromScenario(scenario));
  const app = express();
  app.disable('x-powered-by');
  if (typeof lib.managerRouter === 'function') app.use('/balancer-manager', lib.managerRouter(lb));
  app.use(lb);
  const server = app.listen(args.port, args.host, () => {
    console.log(
      `serving ${scenario.name ?? path.basename(args.file)} on http://${args.host}:${args.port} (pid ${process.pid})`,
    );
  });
  const stop = () => {
    server.closeAllConnections();
    server.close();
    void lb.close(1000).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
