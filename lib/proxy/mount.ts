/**
 * Mount matching and path mapping (ProxyPass semantics). "/app" matches "/app", "/app/…" and
 * "/app;…" but not "/apple"; "/app/" matches only below it. Dot segments (also percent-encoded
 * ones) are resolved first, so "/app/../admin" can never reach a worker as "/admin".
 */
export function normalizePath(path: string): string {
  if (!path.includes('.') && !path.includes('%')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    trailingSlash = false;
    const dots = dotSegment(seg);
    if (dots === 1) {
      trailingSlash = true;
    } else if (dots === 2) {
      out.pop();
      trailingSlash = true;
    } else {
      out.push(seg);
    }
  }
  return `/${out.join('/')}${trailingSlash && out.length > 0 ? '/' : ''}`;
}

/**
 * 1 for ".", 2 for "..", else 0. Percent-encoded dots count, and so does a dot segment with path
 * parameters ("..;x"): Tomcat resolves "/..;/" as "/../", so passing it on would let a request
 * escape the mount on the worker.
 */
function dotSegment(seg: string): 0 | 1 | 2 {
  const semi = seg.indexOf(';');
  const base = semi === -1 ? seg : seg.slice(0, semi);
  if (base.length > 6) return 0;
  const d = base.toLowerCase().replaceAll('%2e', '.');
  return d === '.' ? 1 : d === '..' ? 2 : 0;
}

/**
 * Encoded "/" or "\\" in a path is refused, like Apache's default AllowEncodedSlashes Off; so is a
 * raw "\\", which http-proxy's url.parse turns into "/" after our dot-segment check.
 */
const UNSAFE_SLASH = /%2f|%5c|\\/i;

function joinPath(base: string, rest: string): string {
  if (rest === '') return base;
  const baseSlash = base.endsWith('/');
  const restSlash = rest.startsWith('/');
  if (baseSlash && restSlash) return base + rest.slice(1);
  if (!baseSlash && !restSlash && !rest.startsWith(';')) return `${base}/${rest}`;
  return base + rest;
}

/** The worker-side path (query kept) for `url` under `mount`, or undefined when it does not match. */
export function mapPath(mount: string, target: string, url: string): string | undefined {
  if (url.charCodeAt(0) !== 0x2f /* / */) return undefined;
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  if (UNSAFE_SLASH.test(rawPath)) return undefined;
  const path = normalizePath(rawPath);
  let rest: string;
  if (mount.endsWith('/')) {
    if (!path.startsWith(mount)) return undefined;
    rest = path.slice(mount.length);
  } else {
    if (!path.startsWith(mount)) return undefined;
    const next = path.charCodeAt(mount.length);
    if (!Number.isNaN(next) && next !== 0x2f && next !== 0x3b /* ; */) return undefined;
    rest = path.slice(mount.length);
  }
  const mapped = joinPath(target, rest);
  return q === -1 ? mapped : mapped + url.slice(q);
}
