import type { Series } from './live.js';

const W = 120;
const H = 22;

/** Polyline points for values scaled to the box; nulls break nothing (they are drawn at zero). */
function points(values: readonly (number | null)[], max: number): string {
  const step = values.length > 1 ? W / (values.length - 1) : W;
  return values.map((v, i) => `${(i * step).toFixed(1)},${(H - 1 - ((v ?? 0) / max) * (H - 2)).toFixed(1)}`).join(' ');
}

function peak(values: readonly (number | null)[]): number {
  let max = 0;
  for (const v of values) if (v !== null && v > max) max = v;
  return max;
}

/** One chart: a line per series on a shared scale, titled with the latest values (numbers only: nothing to escape). */
function chart(kind: string, lines: [string, readonly (number | null)[]][], title: string): string {
  const max = Math.max(...lines.map(([, v]) => peak(v)), 1e-9);
  const paths = lines.map(([cls, v]) => `<polyline class="${cls}" points="${points(v, max)}"/>`).join('');
  return `<svg class="spark ${kind}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img"><title>${title}</title>${paths}</svg>`;
}

/** The newest bucket is still filling: titles give the last ten seconds (two buckets). */
function recentRate(v: readonly number[]): number {
  return ((v[v.length - 1] ?? 0) + (v[v.length - 2] ?? 0)) / 2;
}
const last = <T>(v: readonly T[]): T | undefined => v[v.length - 1];
const fmt = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : String(Math.round(n * 10) / 10);

/** The worker's five minutes as inline SVG: requests/s and errors/s, then p50 and p99 latency. */
export function sparklines(s: Series): string {
  const rate = chart(
    'rate',
    [
      ['req', s.requestsPerSec],
      ['err', s.errorsPerSec],
    ],
    `requests/s ${fmt(recentRate(s.requestsPerSec))}, errors/s ${fmt(recentRate(s.errorsPerSec))} (last 10 s; chart: 5 min)`,
  );
  const latency = chart(
    'lat',
    [
      ['p50', s.p50],
      ['p99', s.p99],
    ],
    `latency p50 ${fmt(last(s.p50))} ms, p99 ${fmt(last(s.p99))} ms (last 5 s; chart: 5 min)`,
  );
  return `${rate}${latency}`;
}
