/**
 * Mount matching and path mapping (ProxyPass semantics). "/app" matches "/app", "/app/…" and
 * "/app;…" but not "/apple"; "/app/" matches only below it. Dot segments (also percent-encoded
 * ones) are resolved first, so "/app/../admin" can never reach a worker as "/admin".
 */
export function normalizePath(path: string): string {
  if (path.indexOf('.') === -1 && path.indexOf('%') === -1) return path;
  const segments = path.split('/');
  const out: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    const decoded = seg.length <= 6 ? seg.toLowerCase().replaceAll('%2e', '.') : seg;
    trailingSlash = false;
    if (decoded === '.') {
      trailingSlash = true;
    } else if (decoded === '..') {
      out.pop();
      trailingSlash = true;
    } else {
      out.push(seg);
    }
  }
  return `/${out.join('/')}${trailingSlash && out.length > 0 ? '/' : ''}`;
}

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
