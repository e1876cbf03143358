/**
 * The drafts as a configuration: server-wide settings (ProxyTimeout, BalancerGrowth, the route
 * cookie, exclusions) applied to the balancers they concern, then checked by the same validation
 * as balancer(), with any error sent back to the line that caused it.
 */
import type { BalancerConfig, BalancerOptions } from '../config/options.js';
import { validateConfig } from '../config/validate.js';
import { ConfigError } from '../errors.js';
import { sourceError } from './lexer.js';
import type { BalancerDraft, Drafts, Where } from './draft.js';

type WarnAt = (at: Where, directive: string, message: string) => void;

interface Built {
  config: BalancerConfig;
  /** Where each balancer (and its members) came from, by index. */
  origins: { at: Where; members: Where[] }[];
}

export function finish(d: Drafts, warnAt: WarnAt, file: string): Built {
  const balancers: BalancerOptions[] = [];
  const origins: Built['origins'] = [];
  for (const draft of d.balancers.values()) {
    if (!draft.mount) {
      warnAt(draft.at, 'Proxy', `balancer://${draft.name} has no ProxyPass mounting it: not carried over`);
      continue;
    }
    if (draft.members.length === 0) {
      warnAt(draft.at, 'Proxy', `balancer://${draft.name} has no BalancerMember that could be carried over`);
      continue;
    }
    balancers.push(balancerOptions(draft, d));
    origins.push({ at: draft.mount.at, members: draft.members.map((m) => m.at) });
  }
  applyRouteCookie(d, balancers, warnAt);
  for (const x of d.exclusions) {
    warnAt(
      x.at,
      'ProxyPass',
      `the exclusion ${x.path} ! is not carried over: route ${x.path} to another handler before the balancer`,
    );
  }
  if (balancers.length === 0) {
    throw sourceError(
      { file, line: 1 },
      '',
      'has no <Proxy balancer://…> with members and a ProxyPass: nothing to balance',
    );
  }
  return { config: { ...d.global, balancers }, origins };
}

function balancerOptions(draft: BalancerDraft, d: Drafts): BalancerOptions {
  const members = draft.members.map((m) =>
    d.proxyTimeout !== undefined && m.options.timeout === undefined
      ? { ...m.options, timeout: d.proxyTimeout }
      : m.options,
  );
  const options: Record<string, unknown> = {
    name: draft.name,
    mount: draft.mount!.path,
    ...(draft.mount!.workerPath !== '/' && { path: draft.mount!.workerPath }),
    ...draft.params,
    members,
  };
  if (d.growth !== undefined && options.growth === undefined) options.growth = d.growth;
  if (draft.reverse) options.proxypassreverse = true;
  return options as unknown as BalancerOptions;
}

/** The route-cookie recipe applies to the balancers whose stickysession reads that cookie. */
function applyRouteCookie(d: Drafts, balancers: BalancerOptions[], warnAt: WarnAt): void {
  const rc = d.routeCookie;
  if (!rc) return;
  const reads = (b: BalancerOptions): boolean => (b.stickysession ?? '').split('|')[0] === rc.cookie.name;
  const users = balancers.filter(reads);
  if (users.length === 0) {
    warnAt(rc.at, 'Header', `no balancer has stickysession=${rc.cookie.name}, so the route cookie is not carried over`);
    return;
  }
  for (const b of users) b.routecookie = { ...rc.cookie };
}

/** validateConfig, with an error about balancers[i]… thrown again naming the line it came from. */
export function validateAt(built: Built, file: string): void {
  try {
    validateConfig(built.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const m = /^balancers\[(\d+)\](?:\.members\[(\d+)\])?/.exec(err.field);
    const origin = m ? built.origins[Number(m[1])] : undefined;
    const at = origin ? (m![2] !== undefined ? origin.members[Number(m![2])] : origin.at) : undefined;
    const where = at ?? { file, line: 1 };
    throw new ConfigError(`${where.file}:${where.line}`, err.value, `${err.allowed} (${err.field})`, err.code);
  }
}
