import { promises as dns, type RecordWithTtl } from 'node:dns';
import net from 'node:net';
import type { DiscoverySpec } from '../config/spec.js';

/** One address and port a DNS answer named, with its SRV priority and weight (0 for A/AAAA). */
export interface Endpoint {
  address: string;
  port: number;
  priority: number;
  weight: number;
}

export interface Answer {
  /** Deduplicated, bounded, in a stable order. Empty: the name exists no more, or has no address. */
  endpoints: Endpoint[];
  /** The shortest TTL of the answer, in ms; undefined when DNS gave none (SRV). */
  ttlMs: number | undefined;
}

/** Most workers one group may hold: a hostile or broken answer cannot grow a balancer without bound. */
export const MAX_ENDPOINTS = 64;
/** Most SRV targets resolved per lookup (each one is a query of its own). */
export const MAX_SRV_TARGETS = 32;
/** "The name or its records do not exist": an answer, not an outage. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

function isNoRecords(err: unknown): boolean {
  return NO_RECORDS.has((err as { code?: unknown }).code as string);
}

/**
 * node:dns's Resolver for one discovered group: its own servers, a bounded per-query timeout, A/AAAA
 * with TTLs, SRV with its targets resolved. Throws when DNS could not answer (timeout, refused,
 * server failure); a name without records is an empty answer.
 */
export class GroupResolver {
  readonly #r: dns.Resolver;

  constructor(servers: string[] | undefined, timeoutMs: number) {
    this.#r = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
    if (servers) this.#r.setServers(servers);
  }

  /** Ends the queries in flight (they reject with ECANCELLED). */
  cancel(): void {
    this.#r.cancel();
  }

  async resolve(spec: DiscoverySpec): Promise<Answer> {
    if (spec.kind === 'dns') {
      const { addresses, ttlMs } = await this.#addresses(spec.name, spec.family);
      const port = spec.port ?? 0;
      return { endpoints: bound(addresses.map((address) => ({ address, port, priority: 0, weight: 0 }))), ttlMs };
    }
    return { endpoints: await this.#srv(spec), ttlMs: undefined };
  }

  async #srv(spec: DiscoverySpec): Promise<Endpoint[]> {
    let records: { name: string; port: number; priority: number; weight: number }[];
    try {
      records = await this.#r.resolveSrv(spec.name);
    } catch (err) {
      if (isNoRecords(err)) return [];
      throw err;
    }
    const usable = records
      .filter((r) => isPort(r.port) && typeof r.name === 'string' && r.name !== '' && r.name !== '.')
      .map((r) => ({ ...r, priority: clamp16(r.priority), weight: clamp16(r.weight) }))
      .sort((a, b) => a.priority - b.priority || b.weight - a.weight || cmp(a.name, b.name) || a.port - b.port);
    const targets = [...new Set(usable.map((r) => r.name))].slice(0, MAX_SRV_TARGETS);
    const resolved = new Map<string, string[]>();
    await Promise.all(
      targets.map(async (t) => {
        resolved.set(t, net.isIP(t) ? [t] : (await this.#addresses(t, spec.family)).addresses);
      }),
    );
    const out: Endpoint[] = [];
    for (const r of usable) {
      for (const address of resolved.get(r.name) ?? [])
        out.push({ address, port: r.port, priority: r.priority, weight: r.weight });
    }
    return bound(out);
  }

  /** A and/or AAAA of `name`; with both families, one family failing is tolerated when the other answered. */
  async #addresses(name: string, family: 0 | 4 | 6): Promise<{ addresses: string[]; ttlMs: number | undefined }> {
    const queries: Promise<RecordWithTtl[]>[] = [];
    if (family !== 6) queries.push(this.#r.resolve4(name, { ttl: true }));
    if (family !== 4) queries.push(this.#r.resolve6(name, { ttl: true }));
    const settled = await Promise.allSettled(queries);
    const records: RecordWithTtl[] = [];
    let failure: Error | undefined;
    for (const s of settled) {
      if (s.status === 'fulfilled') records.push(...s.value);
      else if (!isNoRecords(s.reason)) failure ??= s.reason as Error;
    }
    if (failure !== undefined && records.length === 0) throw failure;
    const ttls = records.map((r) => r.ttl).filter((t) => Number.isInteger(t) && t > 0);
    return {
      addresses: records.map((r) => r.address).filter(isAddress),
      ttlMs: ttls.length === 0 ? undefined : Math.min(...ttls) * 1000,
    };
  }
}

/** An IP address a URL can carry (net.isIP also takes IPv6 with a zone, "fe80::1%eth0", which URLs refuse). */
function isAddress(a: unknown): a is string {
  return typeof a === 'string' && net.isIP(a) !== 0 && !a.includes('%');
}

function isPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65_535;
}

/** SRV priority and weight are 16-bit; anything else is clamped into that range. */
function clamp16(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(65_535, Math.max(0, Math.round(v))) : 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One endpoint per address:port (the lowest priority wins), in a stable order (priority, then the
 * answer's order), at most MAX_ENDPOINTS of them.
 */
export function bound(endpoints: readonly Endpoint[]): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const e of endpoints) {
    if (!isPort(e.port) || !isAddress(e.address)) continue;
    const key = `${e.address}|${e.port}`;
    const clean = { address: e.address, port: e.port, priority: clamp16(e.priority), weight: clamp16(e.weight) };
    const had = seen.get(key);
    if (!had || clean.priority < had.priority) seen.set(key, clean);
  }
  return [...seen.values()]
    .sort((a, b) => a.priority - b.priority || cmp(a.address, b.address) || a.port - b.port)
    .slice(0, MAX_ENDPOINTS);
}
