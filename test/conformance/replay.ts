/**
 * Replays one scenario against a running balancer (any proxy speaking Apache's balancer-manager
 * protocol at `managerUrl`) and writes the observations in the format of expected/<name>.json.
 * The member backends are started here, on free loopback ports; the proxy is not.
 */
import http from 'node:http';
import { EchoBackends, REQUEST_ID_HEADER, type Hit } from './backends.js';
import { cookieHeader, stepBackendState, usesHealthChecks, type Scenario, type Step } from './scenario.js';

export interface ManagerMember {
  status: string;
  lf: number;
  lbstatus: number;
  elected: number;
  busy: number;
  transferred: number;
  read: number;
  hcFcount?: number | null;
  hcPcount?: number | null;
}

export interface Observation {
  i: number;
  label: string | null;
  request: { method: string; path: string; cookie?: string };
  status: number | null;
  error: string | null;
  member: string | null;
  attempts: { member: string; port: number; outcome: string }[];
  backendSaw: { method: string; url: string; headers: Record<string, string>; bodyBytes: number } | null;
  balancerEnv: Record<string, string> | null;
  manager?: Record<string, ManagerMember> | { error: string } | null;
}

export interface ObservationFile {
  scenario: string;
  target: { base: string };
  members: { id: string; port: number }[];
  sequence: string;
  observations: Observation[];
  healthChecks?: { byMember: Record<string, { kinds: Record<string, number> }> };
}

interface Reply {
  status: number | null;
  headers: http.IncomingHttpHeaders;
  body: string;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function httpCall(
  url: string,
  opts: {
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: string | Buffer;
    agent?: http.Agent | false;
  } = {},
  timeoutMs = 15000,
): Promise<Reply> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = http.request(
      {
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? null, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', (e: NodeJS.ErrnoException) =>
          resolve({ status: res.statusCode ?? null, headers: res.headers, body: '', error: e.code ?? e.message }),
        );
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: null, headers: {}, body: '', error: e.code ?? e.message }),
    );
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------- balancer-manager (Apache protocol)

interface ManagerXml {
  head: Record<string, string>;
  workers: Record<string, string>[];
}

export function parseManagerXml(xml: string): Record<string, ManagerXml> {
  const out: Record<string, ManagerXml> = {};
  for (const bm of xml.matchAll(/<httpd:balancer>([\s\S]*?)<\/httpd:balancer>/g)) {
    const bx = bm[1] ?? '';
    const workersXml = /<httpd:workers>([\s\S]*?)<\/httpd:workers>/.exec(bx)?.[1] ?? '';
    const head: Record<string, string> = {};
    for (const m of bx.replace(workersXml, '').matchAll(/<httpd:(\w+)>([^<]*)<\/httpd:\1>/g))
      head[m[1]!] = m[2]!.trim();
    const workers = [...workersXml.matchAll(/<httpd:worker>([\s\S]*?)<\/httpd:worker>/g)].map((wm) => {
      const w: Record<string, string> = {};
      for (const m of (wm[1] ?? '').matchAll(/<httpd:(\w+)>([^<]*)<\/httpd:\1>/g)) w[m[1]!] ??= m[2]!.trim();
      return w;
    });
    out[head.name ?? ''] = { head, workers };
  }
  return out;
}

type ManagerState = { balancers: Record<string, ManagerXml> } | { error: string };

async function managerState(managerUrl: string): Promise<ManagerState> {
  const r = await httpCall(`${managerUrl}?xml=1`, { headers: { referer: managerUrl } }, 5000);
  if (r.status !== 200 || !/^\s*<\?xml/.test(r.body)) return { error: `manager: ${r.status} ${r.error ?? 'not xml'}` };
  return { balancers: parseManagerXml(r.body) };
}

/** The health-check counters of the HTML page's worker table (the XML has none), by worker URL. */
async function managerHcCounts(
  managerUrl: string,
): Promise<Record<string, { fcount: number | null; pcount: number | null }>> {
  const r = await httpCall(managerUrl, { headers: { referer: managerUrl } }, 5000);
  const text = (h: string): string =>
    h
      .replace(/<[^>]*>/g, '')
      .replace(/&amp;/g, '&')
      .trim();
  // "Passes" and "Fails" read "setting (count so far)".
  const count = (x: string | undefined): number | null => {
    const m = /^\d+\s*\((\d+)\)$/.exec(x ?? '');
    return m ? Number(m[1]) : null;
  };
  const out: Record<string, { fcount: number | null; pcount: number | null }> = {};
  let cols: string[] | null = null;
  for (const row of r.body.split(/<tr[^>]*>/i).slice(1)) {
    const cells = [...row.matchAll(/<(t[dh])[^>]*>([\s\S]*?)<\/\1>/gi)].map((m) => ({
      th: m[1]!.toLowerCase() === 'th',
      v: text(m[2]!),
    }));
    if (cells.length === 0) continue;
    if (cells[0]!.th) {
      cols = cells[0]!.v === 'Worker URL' ? cells.map((c) => c.v) : null;
      continue;
    }
    if (!cols?.includes('HC Method')) continue;
    const v = Object.fromEntries(cols.map((c, k) => [c, cells[k]?.v]));
    out[v['Worker URL'] ?? ''] = { fcount: count(v.Fails), pcount: count(v.Passes) };
  }
  return out;
}

async function managerSnapshot(
  managerUrl: string,
  s: Scenario,
  portToMember: Map<number, string>,
  withHc: boolean,
): Promise<Observation['manager']> {
  const state = await managerState(managerUrl);
  if ('error' in state) return state;
  const b = state.balancers[`balancer://${s.balancer.name}`] ?? Object.values(state.balancers)[0];
  if (!b) return null;
  const hc = withHc ? await managerHcCounts(managerUrl) : {};
  const out: Record<string, ManagerMember> = {};
  for (const w of b.workers) {
    const id = portToMember.get(Number(w.port)) ?? w.name ?? '';
    out[id] = {
      status: w.status ?? '',
      lf: Number(w.loadfactor),
      lbstatus: Number(w.lbstatus),
      elected: Number(w.elected),
      busy: Number(w.busy),
      transferred: Number(w.transferred),
      read: Number(w.read),
    };
    const counts = hc[w.name ?? ''];
    if (counts) Object.assign(out[id], { hcFcount: counts.fcount, hcPcount: counts.pcount });
  }
  return out;
}

/** POSTs an update the way the manager's own forms do (all fields in the body, Referer set). */
async function managerUpdate(
  managerUrl: string,
  opts: { balancer: string; worker: string | null; params: Record<string, string>; referer: boolean; nonce?: string },
): Promise<number | null> {
  const state = await managerState(managerUrl);
  if ('error' in state) throw new Error(state.error);
  const nonce = opts.nonce ?? state.balancers[`balancer://${opts.balancer}`]?.head.nonce ?? '';
  const body = new URLSearchParams({
    b: opts.balancer,
    ...(opts.worker ? { w: opts.worker } : {}),
    nonce,
    ...opts.params,
  }).toString();
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': Buffer.byteLength(body),
  };
  if (opts.referer) headers.referer = managerUrl;
  return (await httpCall(managerUrl, { method: 'POST', body, headers }, 5000)).status;
}

// ---------------------------------------------------------------- replay

const ENV_HEADERS: Record<string, string> = {
  'x-balancer-name': 'balancer',
  'x-balancer-worker-name': 'worker',
  'x-balancer-worker-route': 'workerRoute',
  'x-balancer-route-changed': 'routeChanged',
  'x-balancer-session-sticky': 'sessionSticky',
  'x-balancer-session-route': 'sessionRoute',
};

/** The kinds of requests (or bare connections) the backends got from the proxy itself: health checks. */
function healthCheckKinds(hits: Hit[], members: { id: string; port: number }[]): ObservationFile['healthChecks'] {
  const own = hits.filter((h) => h.reqId === null);
  if (own.length === 0) return undefined;
  const byMember: Record<string, { kinds: Record<string, number> }> = {};
  for (const m of members) {
    const kinds: Record<string, number> = {};
    for (const h of own.filter((x) => x.port === m.port)) {
      const kind = h.outcome === 'connect-only' ? 'connect-only' : `${h.method} ${h.url} HTTP/${h.httpVersion}`;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
    byMember[m.id] = { kinds };
  }
  return { byMember };
}

/** What an echo backend answers: the request as it arrived. */
interface Echo {
  port: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  bodyBytes: number;
}

export interface ReplayOptions {
  scenario: Scenario;
  /** Where the proxy listens, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** The balancer-manager URL, for the scenarios that snapshot or edit the manager. */
  managerUrl?: string;
  /** The backends, started by the caller (the proxy's config needs their ports first). */
  backends: EchoBackends;
  /** Member id → backend port. */
  ports: Map<string, number>;
}

/** Starts the scenario's backends and returns them with the ports, member id → port. */
export async function startBackends(s: Scenario): Promise<{ backends: EchoBackends; ports: Map<string, number> }> {
  const backends = new EchoBackends();
  const list = await backends.start(s.balancer.members.map((m) => m.backend || 'ok'));
  return { backends, ports: new Map(s.balancer.members.map((m, k) => [m.id, list[k]!])) };
}

export async function replay({
  scenario: s,
  baseUrl,
  managerUrl,
  backends,
  ports,
}: ReplayOptions): Promise<ObservationFile> {
  const members = s.balancer.members.map((m) => ({ id: m.id, port: ports.get(m.id)! }));
  const portToMember = new Map(members.map((m) => [m.port, m.id]));
  const memberUrl = (id: string): string => `http://127.0.0.1:${ports.get(id)}`;
  const baseSpec = new Map(s.balancer.members.map((m) => [m.id, m.backend]));
  const agent = s.client.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: Infinity }) : false;
  const withHc = usesHealthChecks(s);
  let current: Record<string, string> = Object.fromEntries(members.map((m) => [m.id, 'ok']));

  const applyState = async (state: Record<string, string> | undefined): Promise<void> => {
    if (!state) return;
    for (const [id, spec] of Object.entries(state)) {
      if (current[id] === spec) continue;
      const full = [baseSpec.get(id), spec === 'ok' ? '' : spec].filter(Boolean).join(',') || 'ok';
      await backends.set(ports.get(id)!, full);
    }
    current = { ...state };
  };

  const request = async (step: Step): Promise<void> => {
    const reqId = `${s.name}#${step.index}`;
    const headers: http.OutgoingHttpHeaders = { [REQUEST_ID_HEADER]: reqId, ...step.headers };
    const cookie = cookieHeader(step.cookies);
    if (cookie !== undefined) headers.cookie = cookie;
    let body: Buffer | undefined;
    if (step.bodySize) {
      body = Buffer.alloc(step.bodySize, 'b');
      headers['content-length'] = String(step.bodySize);
      headers['content-type'] ??= 'application/octet-stream';
    }
    const mark = backends.nextSeq;
    const r = await httpCall(baseUrl + step.path, { method: step.method, headers, body, agent }, s.client.timeoutMs);
    let echo: Echo | null = null;
    if (String(r.headers['content-type']).includes('json')) {
      try {
        const j = JSON.parse(r.body) as Partial<Echo> | null;
        if (typeof j?.port === 'number') echo = j as Echo;
      } catch {
        // not a backend's answer
      }
    }
    const answered = echo?.port ?? (r.headers['x-backend-port'] ? Number(r.headers['x-backend-port']) : null);
    const env: Record<string, string> = {};
    for (const [h, k] of Object.entries(ENV_HEADERS)) if (typeof r.headers[h] === 'string') env[k] = r.headers[h];
    const obs: Observation = {
      i: step.index,
      label: step.label,
      request: { method: step.method, path: step.path, ...(cookie !== undefined ? { cookie } : {}) },
      status: r.status,
      error: r.error ?? null,
      member: answered === null ? null : (portToMember.get(answered) ?? `port:${answered}`),
      attempts: backends
        .hits(mark)
        .filter((h) => h.reqId === reqId)
        .map((h) => ({ member: portToMember.get(h.port) ?? `port:${h.port}`, port: h.port, outcome: h.outcome })),
      backendSaw: echo
        ? { method: echo.method, url: echo.url, headers: echo.headers, bodyBytes: echo.bodyBytes }
        : null,
      balancerEnv: Object.keys(env).length > 0 ? env : null,
    };
    if (s.managerSnapshots && managerUrl && !step.async) {
      obs.manager = await managerSnapshot(managerUrl, s, portToMember, withHc);
    }
    observations[step.index] = obs;
  };

  const observations: Observation[] = [];
  const pending: Promise<void>[] = [];
  try {
    for (const step of s.steps) {
      switch (step.action) {
        case 'sleep':
          await sleep(step.ms ?? 0);
          continue;
        case 'join':
          await Promise.all(pending.splice(0));
          continue;
        case 'backends':
          await applyState(stepBackendState(s, step));
          continue;
        case 'managerCapture':
        case 'waitHealthCheck':
          continue;
        case 'manager': {
          if (!managerUrl) continue;
          const params = { ...step.params };
          if (step.addMember) Object.assign(params, { b_nwrkr: memberUrl(step.addMember), b_wyes: '1' });
          await managerUpdate(managerUrl, {
            balancer: step.balancer ?? s.balancer.name,
            worker: step.worker ? memberUrl(step.worker) : null,
            params,
            referer: step.referer !== false,
            nonce: step.nonce,
          });
          continue;
        }
        case undefined:
          break;
      }
      if (step.sleepBeforeMs) await sleep(step.sleepBeforeMs);
      await applyState(stepBackendState(s, step));
      const p = request(step);
      if (step.async) {
        pending.push(p);
        await sleep(step.gapMs ?? 200);
      } else await p;
    }
    await Promise.all(pending);
  } finally {
    if (agent) agent.destroy();
  }
  const healthChecks = healthCheckKinds(backends.hits(0), members);
  return {
    scenario: s.name,
    target: { base: baseUrl },
    members,
    sequence: sequenceOf(observations),
    observations,
    ...(healthChecks ? { healthChecks } : {}),
  };
}

/** "a b c d 503 b:500 …": one token per request. */
export function sequenceOf(observations: Observation[]): string {
  return observations
    .map((o) => {
      if (o.member) return o.status === 200 ? o.member : `${o.member}:${o.status}`;
      if (o.status) return String(o.status);
      return o.error ? `ERR(${o.error})` : '?';
    })
    .join(' ');
}
