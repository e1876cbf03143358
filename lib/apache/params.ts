/**
 * BalancerMember and ProxySet/ProxyPass key=value parameters: each one we support, in our units, or
 * the reason it is not carried over.
 */
import { apacheBoolean, apacheDuration, apacheNumber, apacheStatus } from './values.js';
import { healthMatch } from './hcexpr.js';

type Convert = (value: string) => unknown;
const text: Convert = (v) => v;

const MEMBER: Record<string, Convert> = {
  loadfactor: apacheNumber,
  lbset: apacheNumber,
  max: apacheNumber,
  hcpasses: apacheNumber,
  hcfails: apacheNumber,
  route: text,
  redirect: text,
  hcuri: text,
  hcmethod: (v) => v.toUpperCase(),
  retry: apacheDuration,
  timeout: apacheDuration,
  connectiontimeout: apacheDuration,
  hcinterval: apacheDuration,
};

const MEMBER_NOT_CARRIED: Record<string, string> = {
  ping: 'is not supported (no Expect: 100-continue probe)',
  acquire: 'is replaced by the balancer queue (set `queue.timeout`)',
  min: 'is not supported',
  smax: 'is not supported',
  ttl: 'is not supported; the global `keepAliveIdle` plays its part',
  keepalive: 'is not supported',
  disablereuse: 'is not supported: connections are always reused',
  enablereuse: 'is not needed: connections are always reused',
  flushpackets: 'is not needed: responses stream as they arrive',
  flushwait: 'is not needed: responses stream as they arrive',
  iobuffersize: 'is not needed',
  receivebuffersize: 'is not needed',
  responsefieldsize: 'is not needed',
  secret: 'is for AJP, which is not supported',
  mapping: 'is not supported',
  flusher: 'is not supported',
  addressttl: 'is not supported',
  upgrade: 'is not needed: WebSocket upgrades are proxied when the server is attached (`middleware.attach(server)`)',
  hctemplate: 'is not supported (ProxyHCTemplate): set the hc* parameters on the member',
  hcexpr: 'names a ProxyHCExpr that is not defined before it',
};

const BALANCER: Record<string, Convert> = {
  lbmethod: text,
  maxattempts: apacheNumber,
  growth: apacheNumber,
  nofailover: apacheBoolean,
  scolonpathdelim: apacheBoolean,
  failontimeout: apacheBoolean,
  forcerecovery: apacheBoolean,
  stickysession: text,
  stickysessionsep: (v) => (/^off$/i.test(v) ? false : v),
  timeout: apacheDuration,
  failonstatus: text,
  nonce: text,
};

/** Why a member parameter cannot be carried over, or undefined after setting it on `member`. */
export function memberParam(
  member: Record<string, unknown>,
  key: string,
  value: string,
  hcExprs: ReadonlyMap<string, string>,
): string | undefined {
  const convert = MEMBER[key];
  if (convert) {
    member[key] = convert(value);
    return undefined;
  }
  if (key === 'status') {
    const { status, dropped } = apacheStatus(value);
    if (status !== undefined) member.status = status;
    return dropped.length
      ? `status letter${dropped.length > 1 ? 's' : ''} ${dropped.join(', ')} not carried over (D S I H R N E are)`
      : undefined;
  }
  if (key === 'hcexpr') return healthExpr(member, value, hcExprs);
  if (key === 'hcexpect' || key === 'hcbody' || key === 'hctimeout') return `${key} is not an Apache parameter`;
  const why = MEMBER_NOT_CARRIED[key];
  return `${key}=${value} ${why ?? 'is not a BalancerMember parameter'}`;
}

function healthExpr(
  member: Record<string, unknown>,
  name: string,
  hcExprs: ReadonlyMap<string, string>,
): string | undefined {
  const expr = hcExprs.get(name);
  if (expr === undefined) return `hcexpr=${name} ${MEMBER_NOT_CARRIED.hcexpr}`;
  const match = healthMatch(expr);
  if (!match)
    return `hcexpr=${name} ({${expr}}) is not a form we carry over (status comparisons and ranges, hc('body') =~ /…/): set hcexpect/hcbody`;
  if (match.hcexpect !== undefined) member.hcexpect = match.hcexpect;
  if (match.hcbody !== undefined) member.hcbody = match.hcbody;
  return undefined;
}

/** Why a balancer parameter cannot be carried over, or undefined after setting it on `balancer`. */
export function balancerParam(balancer: Record<string, unknown>, key: string, value: string): string | undefined {
  const convert = BALANCER[key];
  if (!convert) {
    return MEMBER[key] || key === 'status'
      ? `${key}=${value} is a member parameter: set it on each BalancerMember`
      : `${key}=${value} is not a balancer parameter`;
  }
  if (key === 'lbmethod' && value === 'heartbeat')
    return 'lbmethod=heartbeat is not provided (it needs mod_heartbeat on the workers): register a scheduler';
  if (key === 'nonce' && /^none$/i.test(value))
    return 'nonce=None is not supported: the manager always requires a nonce';
  balancer[key] = convert(value);
  return undefined;
}

export function isMemberParam(key: string): boolean {
  return key in MEMBER || key === 'status';
}
