/**
 * Compares a replay with Apache's recording, request by request. Always: status, the member that
 * answered, the members the request reached (with outcome) and the method + URL the backend saw.
 * Options add the forwarding headers the backend saw, the balancer's context (routeChanged,
 * sessionRoute, sessionSticky, workerRoute), the manager's per-member state (status, lbstatus,
 * elected; busy is left out, it is released just after the response) and the kinds of health-check
 * traffic. Proxy and member addresses are normalised first, so the ports may differ.
 */
import type { Observation, ObservationFile } from './replay.js';

export interface CompareOptions {
  headers?: boolean;
  env?: boolean;
  manager?: boolean;
  hc?: boolean;
}

export interface Difference {
  /** Request index, or null for the whole run. */
  i: number | null;
  label: string | null;
  field: string;
  expected: unknown;
  actual: unknown;
}

const HEADER_KEYS = ['host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-server', 'cookie', 'content-length'];

function normaliser(doc: ObservationFile): (v: unknown) => unknown {
  const subst: [string, string][] = [[new URL(doc.target.base).host, '{proxy}']];
  for (const m of doc.members) subst.push([`127.0.0.1:${m.port}`, `{member:${m.id}}`]);
  return (v) => (typeof v === 'string' ? subst.reduce((s, [from, to]) => s.split(from).join(to), v) : v);
}

function view(o: Observation, norm: (v: unknown) => unknown, opts: CompareOptions): Record<string, unknown> {
  const v: Record<string, unknown> = {
    status: o.status ?? 'no-response',
    member: o.member,
    attempts: o.attempts.map((a) => `${a.member}:${a.outcome}`).join(','),
    backend: o.backendSaw ? `${o.backendSaw.method} ${o.backendSaw.url}` : null,
  };
  if (opts.headers && o.backendSaw) {
    for (const h of HEADER_KEYS) v[`hdr:${h}`] = norm(o.backendSaw.headers[h] ?? null);
  }
  if (opts.env && o.balancerEnv) {
    for (const k of ['routeChanged', 'sessionRoute', 'sessionSticky', 'workerRoute'])
      v[`env:${k}`] = o.balancerEnv[k] ?? null;
  }
  if (opts.manager && o.manager && !('error' in o.manager)) {
    for (const [id, w] of Object.entries(o.manager)) {
      v[`mgr:${id}`] = `${w.status}/${w.lbstatus}/${w.elected}`;
      if (w.hcFcount !== undefined) v[`mgrhc:${id}`] = `fcount ${w.hcFcount}/pcount ${w.hcPcount}`;
    }
  }
  return v;
}

export function compare(expected: ObservationFile, actual: ObservationFile, opts: CompareOptions = {}): Difference[] {
  const normExp = normaliser(expected);
  const normAct = normaliser(actual);
  const diffs: Difference[] = [];
  const n = Math.max(expected.observations.length, actual.observations.length);
  for (let i = 0; i < n; i++) {
    const eo = expected.observations[i];
    const ao = actual.observations[i];
    const label = eo?.label ?? eo?.request.path ?? null;
    if (!eo || !ao) {
      diffs.push({
        i,
        label,
        field: 'request',
        expected: eo ? 'present' : 'missing',
        actual: ao ? 'present' : 'missing',
      });
      continue;
    }
    const e = view(eo, normExp, opts);
    const a = view(ao, normAct, opts);
    for (const k of new Set([...Object.keys(e), ...Object.keys(a)])) {
      // The context is compared only where both sides expose it; manager rows only where both have them.
      if (k.startsWith('env:') && (!eo.balancerEnv || !ao.balancerEnv)) continue;
      if (k.startsWith('mgr') && (!(k in e) || !(k in a))) continue;
      if (JSON.stringify(e[k]) !== JSON.stringify(a[k]))
        diffs.push({ i, label, field: k, expected: e[k], actual: a[k] });
    }
  }
  if (opts.hc) {
    const kinds = (doc: ObservationFile, id: string): string =>
      Object.keys(doc.healthChecks?.byMember[id]?.kinds ?? {})
        .sort()
        .join(', ') || '(none)';
    for (const id of new Set([...expected.members, ...actual.members].map((m) => m.id))) {
      const e = kinds(expected, id);
      const a = kinds(actual, id);
      if (e !== a) diffs.push({ i: null, label: null, field: `healthChecks:${id}`, expected: e, actual: a });
    }
  }
  return diffs;
}

export function formatDifferences(
  name: string,
  expected: ObservationFile,
  actual: ObservationFile,
  diffs: Difference[],
): string {
  const head = `${name}: ${diffs.length ? `${diffs.length} difference(s)` : 'same'}  (expected ${expected.sequence} | actual ${actual.sequence})`;
  const lines = diffs.map(
    (d) =>
      `  #${d.i ?? '-'} ${d.label ?? ''}: ${d.field}: expected ${JSON.stringify(d.expected)} got ${JSON.stringify(d.actual)}`,
  );
  return [head, ...lines].join('\n');
}
