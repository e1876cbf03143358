/**
 * The library configured like a scenario's Apache: its `balancer` block and `mount` translated to
 * options (seconds become durations, On/Off booleans), the balancer's context exposed as X-Balancer-*
 * headers, the manager at /balancer-manager, on a free loopback port.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { balancer, managerRouter, type BalancerConfig } from '../../lib/index.js';
import type { Scenario } from './scenario.js';

const SECONDS = new Set(['retry', 'timeout', 'connectiontimeout']);
const NUMBERS = new Set(['hcfails', 'hcpasses', 'maxattempts', 'growth', 'lbset']);
const BOOLEANS = new Set(['nofailover', 'scolonpathdelim', 'failontimeout', 'forcerecovery']);
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

function apacheValue(key: string, value: unknown): unknown {
  if (BOOLEANS.has(key)) return value === true || /^on$/i.test(String(value));
  if (SECONDS.has(key)) return `${String(value)}s`;
  // mod_proxy_hcheck: a bare hcinterval is seconds; with a unit ("500ms") it passes through.
  if (key === 'hcinterval') return /^\d+$/.test(String(value)) ? `${String(value)}s` : value;
  if (NUMBERS.has(key)) return Number(value);
  if (key === 'stickysessionsep' && /^off$/i.test(String(value))) return false;
  return value;
}

function translate(params: Record<string, unknown>, known?: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (known && !known.has(k)) throw new Error(`scenario parameter ${k} is not supported`);
    out[k] = apacheValue(k, v);
  }
  return out;
}

export function configFromScenario(s: Scenario, ports: Map<string, number>): BalancerConfig {
  const members = s.balancer.members
    .filter((m) => m.configured !== false)
    .map((m) => {
      const member: Record<string, unknown> = {
        url: `http://127.0.0.1:${ports.get(m.id)}`,
        ...translate(m.params ?? {}, MEMBER_PARAMS),
      };
      for (const k of ['loadfactor', 'route', 'redirect', 'status', 'lbset', 'retry'] as const) {
        if (m[k] !== undefined) member[k] = apacheValue(k, m[k]);
      }
      return member;
    });
  const config = {
    serverName: '127.0.0.1',
    exposeHeaders: true,
    balancers: [
      {
        name: s.balancer.name,
        mount: s.mount.path,
        path: s.mount.url,
        lbmethod: s.balancer.lbmethod,
        ...translate(s.balancer.params),
        members,
      },
    ],
  };
  return config as unknown as BalancerConfig;
}

export interface Served {
  baseUrl: string;
  managerUrl: string;
  close(): Promise<void>;
}

export async function serveScenario(s: Scenario, ports: Map<string, number>): Promise<Served> {
  const lb = balancer(configFromScenario(s, ports));
  const app = express();
  app.disable('x-powered-by');
  app.use('/balancer-manager', managerRouter(lb));
  app.use(lb);
  const server = await new Promise<http.Server>((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    managerUrl: `${baseUrl}/balancer-manager`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await lb.close(1000);
    },
  };
}
