/** What the walk over the directives collects, before it becomes a configuration. */
import type { RouteCookieOptions } from '../config/options.js';
import type { ApacheServerSettings, ApacheWarning } from './types.js';

export interface Where {
  file: string;
  line: number;
}

export interface MemberDraft {
  options: Record<string, unknown> & { url: string };
  at: Where;
}

export interface BalancerDraft {
  /** Lower case, like Apache. */
  name: string;
  at: Where;
  /** Defined inside the carried-over <VirtualHost>. */
  inVhost: boolean;
  params: Record<string, unknown>;
  members: MemberDraft[];
  mount?: { path: string; workerPath: string; at: Where };
  reverse?: Where;
}

export interface Drafts {
  balancers: Map<string, BalancerDraft>;
  global: Record<string, unknown>;
  server: ApacheServerSettings;
  warnings: ApacheWarning[];
  hcExprs: Map<string, string>;
  exclusions: { path: string; at: Where }[];
  routeCookie?: { cookie: RouteCookieOptions; at: Where };
  proxyTimeout?: string;
  growth?: number;
}
