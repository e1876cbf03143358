/**
 * Mount matching and path mapping (ProxyPass semantics). "/app" matches "/app", "/app/…" and
 * "/app;…" but not "/apple"; "/app/" matches only below it. The mount is matched on the raw path; dot segments (also
 * percent-encoded ones) are then resolved below it, and may not climb out of it: "/app/../admin"
 * can never reach a worker as "/admin", nor "/public/../private" the "/private" balancer.
 */

/** `path` with its dot segments resolved as a whole ("/a/../b" is "/b"; ".." stops at the root). */
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
 * Encoded "/", "\\" or NUL in a path is refused, like Apache's default AllowEncodedSlashes Off (and
 * its refusal of "%00"); so is a raw "\\", which http-proxy's url.parse turns into "/" after our
 * dot-segment check.
 */
const UNSAFE_SLASH = /%2f|%5c|%00|\\/i;

/**
 * Characters http-proxy's url.parse drops or rewrites after our checks: "#" and all after it, and
 * (through the trimming of) anything outside visible ASCII. Node's parser lets only "#" through,
 * but a rewritten req.url may carry the rest.
 */
const REWRITTEN = /[^\x21-\x7e]|#/;

/** Where a dot segment (".", "..", "%2e", …) may begin: without one, resolving changes nothing. */
const DOT_SEGMENT_START = /\/(\.|%2e)/i;

/** A request target that names a mount but must not be forwarded (400 ERR_BAD_PATH). */
export const BAD_PATH: unique symbol = Symbol('bad path');

/** True when `path` (no query) is `mount` or below it, on the raw characters. */
function underMount(mount: string, path: string): boolean {
  if (!path.startsWith(mount)) return false;
  if (mount.endsWith('/')) return true;
  const next = path.charCodeAt(mount.length);
  return Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3b; /* ; */
}

/**
 * `rest` (the raw path after the mount) with its dot segments resolved, or undefined when a ".."
 * would climb above the mount. Below a mount without a trailing slash, everything up to the first
 * "/" (a ";params" suffix of the mount's last segment) is kept as it is.
 */
function resolveBelow(mountSlash: boolean, rest: string): string | undefined {
  if (!rest.includes('.') && !rest.includes('%')) return rest;
  const slash = mountSlash ? -1 : rest.indexOf('/');
  if (!mountSlash && slash === -1) return rest;
  const out: string[] = [];
  let trailingSlash = false;
  for (const seg of rest.slice(slash + 1).split('/')) {
    const dots = dotSegment(seg);
    trailingSlash = dots !== 0;
    if (dots === 2) {
      if (out.length === 0) return undefined;
      out.pop();
    } else if (dots === 0) out.push(seg);
  }
  return `${rest.slice(0, slash + 1)}${out.join('/')}${trailingSlash && out.length > 0 ? '/' : ''}`;
}

function joinPath(base: string, rest: string): string {
  if (rest === '') return base;
  const baseSlash = base.endsWith('/');
  const restSlash = rest.startsWith('/');
  if (baseSlash && restSlash) return base + rest.slice(1);
  if (!baseSlash && !restSlash && !rest.startsWith(';')) return `${base}/${rest}`;
  return base + rest;
}

/**
 * The worker-side path (query kept) for `url` under `mount`; undefined when `url` is not for this
 * mount; BAD_PATH when its raw path names the mount but its dot segments climb out of it or it
 * holds characters the forwarder would rewrite, and when only its resolved path names the mount.
 * The app's own middleware (app.use('/private', auth)) matched the raw path, so a request may only
 * ever reach the balancer its raw path names.
 */
export function mapPath(mount: string, target: string, url: string): string | undefined | typeof BAD_PATH {
  if (url.charCodeAt(0) !== 0x2f /* / */) return undefined;
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  if (UNSAFE_SLASH.test(rawPath)) return undefined;
  if (!underMount(mount, rawPath)) {
    if (!DOT_SEGMENT_START.test(rawPath)) return undefined;
    const resolved = normalizePath(rawPath);
    return resolved !== rawPath && underMount(mount, resolved) ? BAD_PATH : undefined;
  }
  if (REWRITTEN.test(url)) return BAD_PATH;
  const rest = resolveBelow(mount.endsWith('/'), rawPath.slice(mount.length));
  if (rest === undefined) return BAD_PATH;
  const mapped = joinPath(target, rest);
  return q === -1 ? mapped : mapped + url.slice(q);
}
