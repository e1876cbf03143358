import { createHash } from 'node:crypto';
import net from 'node:net';
import type { DiscoverySpec, MemberSpec } from '../config/spec.js';
import type { Endpoint } from './resolver.js';

/** loadfactor 1..100 as Apache keeps it (× 100). */
const MIN_LBFACTOR = 100;
const MAX_LBFACTOR = 10_000;
const MAX_LBSET = 99;

/**
 * The sticky route of a discovered worker: derived from its address and port alone, so every
 * instance gives the same worker the same route and a session stays put while the address stays.
 */
export function routeFor(address: string, port: number): string {
  return createHash('sha256').update(`${address}:${port}`).digest('hex').slice(0, 12);
}

/**
 * The member each endpoint becomes. SRV: each distinct priority, lowest first, is the next lbset
 * tier after the member's own lbset (at most 99); each weight is scaled against the largest weight
 * of its priority into loadfactor 1..100 (weight 0 is the smallest share; all 0: equal shares).
 * A/AAAA: the member's lbset and loadfactor as given.
 */
export function membersFor(spec: DiscoverySpec, endpoints: readonly Endpoint[]): MemberSpec[] {
  const t = spec.template;
  const tiers = [...new Set(endpoints.map((e) => e.priority))].sort((a, b) => a - b);
  const heaviest = new Map<number, number>();
  for (const e of endpoints) heaviest.set(e.priority, Math.max(heaviest.get(e.priority) ?? 0, e.weight));
  return endpoints.map((e) => {
    const host = net.isIPv6(e.address) ? `[${e.address}]` : e.address;
    const url = new URL(`${spec.scheme}://${host}:${e.port}`);
    let { lbset, lbfactor } = t;
    if (spec.kind === 'srv') {
      lbset = Math.min(MAX_LBSET, t.lbset + tiers.indexOf(e.priority));
      const top = heaviest.get(e.priority) ?? 0;
      lbfactor = top === 0 ? MAX_LBFACTOR : scaleWeight(e.weight, top);
    }
    return {
      ...t,
      name: `${url.protocol}//${url.host}`,
      url,
      basePath: '',
      lbset,
      lbfactor,
      route: routeFor(e.address, e.port),
      discovered: spec.name,
    };
  });
}

function scaleWeight(weight: number, top: number): number {
  return Math.min(MAX_LBFACTOR, Math.max(MIN_LBFACTOR, Math.round((weight / top) * MAX_LBFACTOR)));
}
