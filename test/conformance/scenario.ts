/**
 * Scenario files (scenarios/<name>.json): a balancer configuration written the Apache way and a list
 * of steps (requests, backend state changes, sleeps, balancer-manager posts). The format is described
 * in README.md next to this file.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ScenarioMember {
  id: string;
  /** The port Apache's recording used; the replay maps it to a port of its own. */
  port: number;
  loadfactor?: number;
  route?: string;
  redirect?: string;
  status?: string;
  lbset?: number;
  retry?: number;
  params?: Record<string, string | number>;
  /** Base state of the member's echo backend (e.g. "size:4000"). */
  backend: string;
  /** false: a backend only, added later through the manager. */
  configured?: boolean;
}

export interface Step {
  index: number;
  stepNo: number;
  action?: 'sleep' | 'join' | 'backends' | 'manager' | 'managerCapture' | 'waitHealthCheck';
  label: string | null;
  method: string;
  path: string;
  headers?: Record<string, string>;
  cookies?: string | Record<string, string>;
  bodySize?: number;
  backends?: Record<string, string>;
  down?: string[];
  sleepBeforeMs?: number;
  async?: boolean;
  gapMs?: number;
  note?: string;
  ms?: number;
  worker?: string;
  balancer?: string;
  params?: Record<string, string>;
  name?: string;
  referer?: boolean;
  nonce?: string;
  addMember?: string;
  member?: string;
  timeoutMs?: number;
}

export interface Scenario {
  name: string;
  description: string;
  balancer: { name: string; lbmethod: string; params: Record<string, string | number>; members: ScenarioMember[] };
  mount: { path: string; url: string };
  client: { keepAlive: boolean; timeoutMs: number };
  managerSnapshots: boolean;
  steps: Step[];
}

interface RawScenario {
  name?: string;
  description?: string;
  balancer: {
    name?: string;
    lbmethod?: string;
    params?: Record<string, string | number>;
    members: (Partial<ScenarioMember> & { note?: string })[];
    hcExprs?: Record<string, string>;
  };
  mount?: { path?: string; url?: string };
  client?: { keepAlive?: boolean; timeoutMs?: number };
  managerSnapshots?: boolean;
  requests?: (Partial<Step> & { repeat?: number })[];
}

const FIRST_PORT = 18011;
const HC_PARAMS = new Set(['hcmethod', 'hcinterval', 'hcpasses', 'hcfails', 'hcuri', 'hcexpr']);

export const SCENARIO_DIR = path.join(import.meta.dirname, 'scenarios');
export const EXPECTED_DIR = path.join(import.meta.dirname, 'expected');

export function scenarioNames(): string[] {
  return fs
    .readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadScenario(name: string): Scenario {
  const raw = JSON.parse(fs.readFileSync(path.join(SCENARIO_DIR, `${name}.json`), 'utf8')) as RawScenario;
  const b = raw.balancer;
  return {
    name: raw.name ?? name,
    description: raw.description ?? '',
    balancer: {
      name: b.name ?? 'oracle',
      lbmethod: b.lbmethod ?? 'byrequests',
      params: b.params ?? {},
      members: b.members.map((m, k) => ({
        ...m,
        id: m.id ?? String.fromCharCode(97 + k),
        port: m.port ?? FIRST_PORT + k,
        backend: m.backend ?? '',
      })),
    },
    mount: { path: '/app/', url: '/', ...raw.mount },
    client: { keepAlive: false, timeoutMs: 15000, ...raw.client },
    managerSnapshots: raw.managerSnapshots === true,
    steps: expandSteps(raw.requests ?? []),
  };
}

export function usesHealthChecks(s: Scenario): boolean {
  return s.balancer.members.some((m) => Object.keys(m.params ?? {}).some((k) => HC_PARAMS.has(k.toLowerCase())));
}

/** `repeat` copies a request; state changes and sleeps apply to the first copy only. */
function expandSteps(requests: (Partial<Step> & { repeat?: number })[]): Step[] {
  const out: Step[] = [];
  let reqIndex = 0;
  for (const st of requests) {
    if (st.action) {
      out.push({ ...st, index: -1, stepNo: 0, label: st.label ?? null, method: 'GET', path: '' });
      continue;
    }
    for (let r = 1; r <= (st.repeat ?? 1); r++) {
      const index = reqIndex++;
      const fill = (v: string): string => v.replaceAll('{n}', String(r)).replaceAll('{i}', String(index));
      const step: Step = {
        ...st,
        index,
        stepNo: 0,
        method: st.method ?? 'GET',
        path: fill(st.path ?? '/app/req-{i}'),
        label: st.label ? fill(st.label) : null,
      };
      if (r > 1) {
        delete step.backends;
        delete step.down;
        delete step.sleepBeforeMs;
      }
      out.push(step);
    }
  }
  return out;
}

/** Member id → backend state at one step (absolute), or undefined when the step changes nothing. */
export function stepBackendState(s: Scenario, step: Step): Record<string, string> | undefined {
  if (!step.backends && !step.down) return undefined;
  const state: Record<string, string> = {};
  for (const m of s.balancer.members) state[m.id] = 'ok';
  for (const id of step.down ?? []) state[id] = 'down';
  Object.assign(state, step.backends);
  return state;
}

export function cookieHeader(cookies: Step['cookies']): string | undefined {
  if (cookies === undefined) return undefined;
  if (typeof cookies === 'string') return cookies;
  return Object.entries(cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}
