/**
 * The request target sent to a worker: its base path joined to the mapped path, with runs of "/"
 * in the path merged (the query is left alone). This is what the balancer has always sent (the
 * join of http-proxy 1.x, including its "http:/" → "http://" repair after merging), now built here
 * so the engine only passes it on.
 */
export function workerPath(basePath: string, path: string): string {
  const q = path.indexOf('?');
  const pathPart = q === -1 ? path : path.slice(0, q);
  // The common case: nothing to merge or repair.
  if (basePath === '' && !pathPart.includes('//') && !pathPart.includes(':/')) return path;
  const joined = (basePath === '' ? pathPart : `${basePath}/${pathPart}`)
    .replace(/\/+/g, '/')
    .replace('http:/', 'http://')
    .replace('https:/', 'https://');
  return q === -1 ? joined : joined + path.slice(q);
}
