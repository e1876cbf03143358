/**
 * The walk over the expanded directives: each one that concerns the balancer is carried into the
 * drafts or reported with its file and line; the rest (LoadModule, Listen's siblings, logging, MPM…)
 * is skipped without a word.
 */
import type { Node } from './expand.js';
import type { BalancerDraft, Drafts, Where } from './draft.js';
import type { ApacheWarning } from './types.js';
import { apacheBoolean, apacheDuration, apacheNumber, keyValue } from './values.js';
import { balancerParam, memberParam } from './params.js';
import { parseHcExprDirective } from './hcexpr.js';
import { headerMeaning } from './headers.js';

interface Scope {
  proxy?: BalancerDraft;
  location?: string;
  /** A section whose balancer directives are not carried over ("<LocationMatch ^/x>"). */
  foreign?: string;
  vhost: boolean;
}

const REASONS: Record<string, string> = {
  proxypassmatch: 'is not supported: mounts are path prefixes (one ProxyPass per balancer)',
  proxypassreversecookiepath: 'is not supported yet: Set-Cookie paths pass through unchanged',
  proxypassreversecookiedomain: 'is not supported yet: Set-Cookie domains pass through unchanged',
  proxyerroroverride: "is not supported: use the onError option for the balancer's own errors",
  proxystatus: 'is not needed: the manager shows the counters',
  proxyhctemplate: 'is not supported: set the hc* parameters on each member',
  proxyhctpsize: 'is not needed: checks run on the event loop',
  proxyremote: 'is not supported (no forward-proxy chaining)',
  proxyremotematch: 'is not supported (no forward-proxy chaining)',
  proxyrequests: 'is not supported: this is a reverse proxy only',
  proxyvia: 'is not supported: no Via header is added',
  proxybadheader: 'is not needed: bad worker headers are refused with 502',
  proxysourceaddress: 'is not supported',
  proxyiobuffersize: 'is not needed',
  proxyreceivebuffersize: 'is not needed',
  proxymaxforwards: 'is not supported',
  proxyset: 'names no balancer or member',
};

export class Walk {
  readonly drafts: Drafts = {
    balancers: new Map(),
    global: {},
    server: {},
    warnings: [],
    hcExprs: new Map(),
    exclusions: [],
  };
  private vhost?: Where;

  /** Whether the carried-over <VirtualHost> inherits the main server's balancers and ProxyPass lines. */
  private readonly inherit: { balancers: boolean; proxyPass: boolean };

  constructor(
    nodes: readonly Node[],
    private readonly onWarn: (w: ApacheWarning) => void,
  ) {
    const vhost = nodes.find((n) => n.children && n.name.toLowerCase() === 'virtualhost');
    const on = (d: string): boolean =>
      !vhost?.children!.some((c) => c.name.toLowerCase() === d && apacheBoolean(c.args[0] ?? '') === false);
    this.inherit = { balancers: on('balancerinherit'), proxyPass: on('proxypassinherit') };
  }

  warn(n: Node, message: string): void {
    this.warnAt(n, n.name, message);
  }

  warnAt(at: Where, directive: string, message: string): void {
    const w = { file: at.file, line: at.line, directive, message };
    this.onWarn(w);
    this.drafts.warnings.push(w);
  }

  walk(nodes: readonly Node[], scope: Scope): void {
    for (const n of nodes) this.node(n, scope);
  }

  private node(n: Node, scope: Scope): void {
    const name = n.name.toLowerCase();
    if (n.children) return this.section(n, name, scope);
    if (scope.foreign !== undefined) {
      if (concernsBalancer(name, n)) this.warn(n, `inside ${scope.foreign} is not carried over`);
      return;
    }
    switch (name) {
      case 'balancermember':
        return this.member(n, scope);
      case 'proxyset':
        return this.proxySet(n, scope);
      case 'proxypass':
        return this.proxyPass(n, scope);
      case 'proxypassreverse':
        return this.proxyPassReverse(n, scope);
      case 'proxypreservehost':
        return this.globalFlag(n, 'preserveHost');
      case 'proxyaddheaders':
        return this.globalFlag(n, 'xForwarded');
      case 'proxytimeout':
        this.drafts.proxyTimeout = apacheDuration(n.args[0] ?? '');
        return;
      case 'proxyhcexpr':
        return this.hcExpr(n);
      case 'balancerpersist':
        if (apacheBoolean(n.args[0] ?? '') === true) {
          this.warn(
            n,
            'manager edits are kept in memory only: give balancer() a `store` (FileStore, RedisStore) to keep them across restarts',
          );
        }
        return;
      case 'balancergrowth':
        this.drafts.growth = Number(apacheNumber(n.args[0] ?? ''));
        return;
      case 'balancerinherit':
      case 'proxypassinherit':
        return; // read when the <VirtualHost> is entered
      case 'servername':
        if (!scope.vhost && this.drafts.global.serverName !== undefined) return;
        this.drafts.global.serverName = (n.args[0] ?? '').replace(/^[a-z]+:\/\//i, '').replace(/:\d+$/, '');
        return;
      case 'listen':
        if (this.drafts.server.listen === undefined) this.drafts.server.listen = n.args[0];
        else this.warn(n, `only the first Listen (${this.drafts.server.listen}) is used`);
        return;
      case 'header':
        return this.header(n);
      case 'sethandler':
        return this.setHandler(n, scope);
      case 'rewriterule':
        if (/\[[^\]]*\bP\b/i.test(n.raw))
          this.warn(n, 'proxies through mod_rewrite ([P]), which is not carried over: use a ProxyPass');
        return;
      default:
        if (REASONS[name]) return this.warn(n, REASONS[name]);
        if (concernsBalancer(name, n)) this.warn(n, 'is not carried over');
    }
  }

  private section(n: Node, name: string, scope: Scope): void {
    const arg = n.args[0] ?? '';
    if (name === 'virtualhost') {
      if (scope.vhost || this.vhost) {
        this.warn(
          n,
          `only the first <VirtualHost> (${this.vhost ? `${this.vhost.file}:${this.vhost.line}` : 'the enclosing one'}) is carried over`,
        );
        return;
      }
      this.vhost = { file: n.file, line: n.line };
      return this.walk(n.children!, { vhost: true });
    }
    if (scope.foreign !== undefined) return this.walk(n.children!, scope);
    if (name === 'proxy' && /^balancer:\/\//i.test(arg)) {
      const draft = this.balancer(arg, n, scope);
      return this.walk(n.children!, { ...scope, proxy: draft });
    }
    if (name === 'location' && scope.location === undefined && scope.proxy === undefined) {
      return this.walk(n.children!, { ...scope, location: arg });
    }
    this.walk(n.children!, { ...scope, foreign: `<${n.name}${arg ? ` ${arg}` : ''}>` });
  }

  /** The draft of balancer://name (created on first mention). */
  private balancer(url: string, n: Node, scope: Scope): BalancerDraft {
    const name = balancerName(url);
    let draft = this.drafts.balancers.get(name);
    if (!draft) {
      draft = { name, at: { file: n.file, line: n.line }, inVhost: scope.vhost, params: {}, members: [] };
      this.drafts.balancers.set(name, draft);
    }
    return draft;
  }

  private member(n: Node, scope: Scope): void {
    const [target, url, rest] = scope.proxy
      ? [scope.proxy, n.args[0], n.args.slice(1)]
      : /^balancer:\/\//i.test(n.args[0] ?? '')
        ? [this.balancer(n.args[0]!, n, scope), n.args[1], n.args.slice(2)]
        : [undefined, undefined, []];
    if (!target) return this.warn(n, 'outside a <Proxy balancer://…> must name its balancer first');
    if (url === undefined) return this.warn(n, 'names no worker URL');
    if (!/^https?:\/\//i.test(url))
      return this.warn(
        n,
        `${url}: only http:// and https:// workers are supported (not ajp, fcgi, unix sockets, h2, ws)`,
      );
    const options: Record<string, unknown> & { url: string } = { url };
    for (const word of rest) {
      const kv = keyValue(word);
      const why = kv ? memberParam(options, kv[0], kv[1], this.drafts.hcExprs) : `${word} is not a key=value parameter`;
      if (why) this.warn(n, why);
    }
    target.members.push({ options, at: { file: n.file, line: n.line } });
  }

  private proxySet(n: Node, scope: Scope): void {
    let words = n.args;
    let target = scope.proxy;
    if (!target && words[0] !== undefined && !words[0].includes('=')) {
      const url = words[0];
      words = words.slice(1);
      if (/^balancer:\/\//i.test(url)) target = this.balancer(url, n, scope);
      else return this.memberSet(n, url, words);
    }
    if (!target) return this.warn(n, REASONS.proxyset!);
    for (const word of words) {
      const kv = keyValue(word);
      const why = kv ? balancerParam(target.params, kv[0], kv[1]) : `${word} is not a key=value parameter`;
      if (why) this.warn(n, why);
    }
  }

  /** ProxySet on a worker URL: the parameters of the member with that URL. */
  private memberSet(n: Node, url: string, words: readonly string[]): void {
    const same = (u: string): boolean => u.replace(/\/$/, '').toLowerCase() === url.replace(/\/$/, '').toLowerCase();
    const member = [...this.drafts.balancers.values()].flatMap((b) => b.members).find((m) => same(m.options.url));
    if (!member) return this.warn(n, `${url} is not a BalancerMember defined before it`);
    for (const word of words) {
      const kv = keyValue(word);
      const why = kv
        ? memberParam(member.options, kv[0], kv[1], this.drafts.hcExprs)
        : `${word} is not a key=value parameter`;
      if (why) this.warn(n, why);
    }
  }

  private proxyPass(n: Node, scope: Scope): void {
    const inLocation = scope.location !== undefined;
    const path = inLocation ? scope.location! : n.args[0];
    const url = inLocation ? n.args[0] : n.args[1];
    const params = n.args.slice(inLocation ? 1 : 2);
    if (scope.proxy) return this.warn(n, 'inside <Proxy> is not allowed');
    if (path === undefined || url === undefined) return this.warn(n, 'needs a path and a URL');
    if (!scope.vhost && !this.inherit.proxyPass) {
      return this.warn(n, 'is not inherited by the <VirtualHost> that is carried over (ProxyPassInherit Off)');
    }
    if (url === '!') {
      this.drafts.exclusions.push({ path, at: { file: n.file, line: n.line } });
      return;
    }
    if (!/^balancer:\/\//i.test(url)) {
      return this.warn(
        n,
        `${url} is not a balancer:// URL: plain and ajp/fcgi/unix reverse proxying are not carried over`,
      );
    }
    const draft = this.balancer(url, n, scope);
    if (scope.vhost && !draft.inVhost && !this.inherit.balancers) {
      return this.warn(
        n,
        `balancer://${draft.name} belongs to the main server, which the <VirtualHost> does not inherit (BalancerInherit Off)`,
      );
    }
    if (draft.mount) {
      return this.warn(
        n,
        `balancer://${draft.name} is already mounted at ${draft.mount.path} (${draft.mount.at.file}:${draft.mount.at.line}); a balancer has one mount`,
      );
    }
    draft.mount = { path, workerPath: workerPath(url), at: { file: n.file, line: n.line } };
    for (const word of params) {
      const kv = keyValue(word);
      const why = kv ? balancerParam(draft.params, kv[0], kv[1]) : `the ${word} flag is not supported`;
      if (why) this.warn(n, why);
    }
  }

  private proxyPassReverse(n: Node, scope: Scope): void {
    const inLocation = scope.location !== undefined;
    const path = inLocation ? scope.location! : n.args[0];
    const url = inLocation ? n.args[0] : n.args[1];
    if (path === undefined || url === undefined) return this.warn(n, 'needs a path and a URL');
    const draft = this.reverseTarget(url);
    if (!draft) return this.warn(n, `${url} is neither a balancer:// URL nor a member of one`);
    draft.reverse = { file: n.file, line: n.line };
  }

  private reverseTarget(url: string): BalancerDraft | undefined {
    if (/^balancer:\/\//i.test(url)) return this.drafts.balancers.get(balancerName(url));
    const norm = (u: string): string => u.replace(/\/$/, '').toLowerCase();
    return [...this.drafts.balancers.values()].find((b) => b.members.some((m) => norm(m.options.url) === norm(url)));
  }

  private globalFlag(n: Node, key: 'preserveHost' | 'xForwarded'): void {
    this.drafts.global[key] = apacheBoolean(n.args[0] ?? '');
  }

  private hcExpr(n: Node): void {
    const parsed = parseHcExprDirective(n.raw);
    if (!parsed) return this.warn(n, 'is not written as ProxyHCExpr name {expression}');
    this.drafts.hcExprs.set(parsed[0], parsed[1]);
  }

  private header(n: Node): void {
    const meaning = headerMeaning(n.args);
    if (meaning.kind === 'none') return;
    if (meaning.kind === 'route-cookie') {
      this.drafts.routeCookie = { cookie: meaning.cookie, at: { file: n.file, line: n.line } };
    } else {
      this.drafts.global.exposeHeaders = true;
    }
    if (meaning.note) this.warn(n, meaning.note);
  }

  private setHandler(n: Node, scope: Scope): void {
    if ((n.args[0] ?? '').toLowerCase() !== 'balancer-manager') return;
    if (scope.location === undefined) return this.warn(n, 'balancer-manager outside a <Location> is not carried over');
    if (this.drafts.server.manager !== undefined)
      return this.warn(n, `the manager is already mounted at ${this.drafts.server.manager}`);
    this.drafts.server.manager = scope.location;
    this.warn(
      n,
      `the manager is mounted at ${scope.location}; its access rules are not carried over: put authentication in front of it`,
    );
  }
}

function balancerName(url: string): string {
  return url
    .replace(/^balancer:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
}

/** The path after balancer://name, "/" when there is none. */
function workerPath(url: string): string {
  const rest = url.replace(/^balancer:\/\/[^/]*/i, '');
  return rest === '' ? '/' : rest;
}

/** Directives of mod_proxy and mod_proxy_balancer, which must never vanish without a word. */
function concernsBalancer(name: string, n: Node): boolean {
  return (
    name.startsWith('proxy') ||
    name.startsWith('balancer') ||
    (name === 'sethandler' && /balancer-manager/i.test(n.raw)) ||
    (name === 'header' && n.raw.includes('%{BALANCER_'))
  );
}
