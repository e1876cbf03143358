/**
 * The common ProxyHCExpr conditions as hcexpect (statuses) and hcbody (a RegExp on the body):
 * status comparisons, `in {…}`, a status class regex (/^[23]/), `hc('body') =~ /…/`, and one of
 * each joined by &&. Anything else is reported, never guessed.
 */

export interface HealthMatch {
  hcexpect?: string;
  hcbody?: RegExp;
}

const STATUS = String.raw`%\{REQUEST_STATUS\}`;
const NUM = String.raw`['"]?(\d{3})['"]?`;
const COMPARE = new RegExp(String.raw`^${STATUS}\s*(==|=|-eq|!=|-ne|<|-lt|<=|-le|>|-gt|>=|-ge)\s*${NUM}$`);
const IN_LIST = new RegExp(String.raw`^${STATUS}\s+-?in\s*\{([^}]*)\}$`);
const STATUS_RE = new RegExp(String.raw`^${STATUS}\s*=~\s*/(.*)/$`);
const BODY_RE = /^hc\(\s*['"]body['"]\s*\)\s*=~\s*\/(.*)\/(i?)$/;

function range(lo: number, hi: number): string | undefined {
  const a = Math.max(lo, 100);
  const b = Math.min(hi, 599);
  if (a > b) return undefined;
  return a === b ? String(a) : `${a}-${b}`;
}

function comparison(op: string, n: number): string | undefined {
  switch (op) {
    case '==':
    case '=':
    case '-eq':
      return range(n, n);
    case '!=':
    case '-ne':
      return [range(100, n - 1), range(n + 1, 599)].filter(Boolean).join(',') || undefined;
    case '<':
    case '-lt':
      return range(100, n - 1);
    case '<=':
    case '-le':
      return range(100, n);
    case '>':
    case '-gt':
      return range(n + 1, 599);
    default:
      return range(n, 599);
  }
}

/** /^[234]/, /^[2-3]/, /^2/, /^2\d\d$/ as status classes "2xx,3xx". */
function statusClasses(re: string): string | undefined {
  const m = /^\^(?:\[([1-5](?:-[1-5])?(?:[1-5](?:-[1-5])?)*)\]|([1-5]))(?:\\d\\d\$?|\.\.\$?)?$/.exec(re);
  if (!m) return undefined;
  const digits = new Set<number>();
  const set = m[1] ?? m[2]!;
  for (let i = 0; i < set.length; i++) {
    if (set[i + 1] === '-') {
      for (let d = Number(set[i]); d <= Number(set[i + 2]); d++) digits.add(d);
      i += 2;
    } else digits.add(Number(set[i]));
  }
  return (
    [...digits]
      .sort()
      .map((d) => `${d}xx`)
      .join(',') || undefined
  );
}

function term(t: string, out: HealthMatch): boolean {
  const s = t
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  let m = COMPARE.exec(s);
  if (m) return setExpect(out, comparison(m[1]!, Number(m[2])));
  m = IN_LIST.exec(s);
  if (m) {
    const codes = m[1]!.split(',').map((c) => c.trim().replace(/^['"]|['"]$/g, ''));
    return codes.every((c) => /^\d{3}$/.test(c)) && setExpect(out, codes.join(','));
  }
  m = STATUS_RE.exec(s);
  if (m) return setExpect(out, statusClasses(m[1]!));
  m = BODY_RE.exec(s);
  if (m && out.hcbody === undefined) {
    try {
      out.hcbody = new RegExp(m[1]!, m[2]);
      return m[1] !== '';
    } catch {
      return false;
    }
  }
  return false;
}

function setExpect(out: HealthMatch, expect: string | undefined): boolean {
  if (expect === undefined || out.hcexpect !== undefined) return false;
  out.hcexpect = expect;
  return true;
}

/** The expression (without its braces) as hcexpect/hcbody, or undefined when it is not a common form. */
export function healthMatch(expr: string): HealthMatch | undefined {
  if (/\|\||^\s*!|\s!\s*\(/.test(expr)) return undefined;
  const out: HealthMatch = {};
  for (const t of expr.split('&&')) if (!term(t, out)) return undefined;
  return out;
}

/** `ProxyHCExpr name {expr}` → [name, expr], or undefined when it is not written so. */
export function parseHcExprDirective(raw: string): [string, string] | undefined {
  const m = /^(\S+)\s+\{(.*)\}\s*$/s.exec(raw.trim());
  return m ? [m[1]!.replace(/^['"]|['"]$/g, ''), m[2]!.trim()] : undefined;
}
