import path from 'node:path';
import { expand } from './expand.js';
import { Walk } from './build.js';
import { finish, validateAt } from './finish.js';
import { sourceError } from './lexer.js';
import type { ApacheImport, ApacheImportOptions, ApacheWarning } from './types.js';

/**
 * An Apache httpd configuration as what balancer() takes. Every directive that concerns the balancer
 * is carried over or named in `warnings` with its file, line and the reason; a syntax error, a
 * missing Include or a value balancer() would refuse throws a ConfigError naming the file and line.
 * With `strict`, the first warning throws instead.
 */
export function fromApacheConfig(text: string, options: ApacheImportOptions = {}): ApacheImport {
  if (typeof text !== 'string') throw sourceError({ file: options.file ?? 'httpd.conf', line: 0 }, '', 'is not text');
  const file = options.file ?? 'httpd.conf';
  const baseDir = path.resolve(options.baseDir ?? (options.file ? path.dirname(options.file) : '.'));
  const strict = options.strict === true;
  const onWarn = (w: ApacheWarning): void => {
    if (strict) throw sourceError(w, w.directive, w.message);
  };
  const early: ApacheWarning[] = [];
  const nodes = expand(text, file, baseDir, (w) => {
    onWarn(w);
    early.push(w);
  });
  const walk = new Walk(nodes, onWarn);
  walk.walk(nodes, { vhost: false });
  const built = finish(walk.drafts, (at, directive, message) => walk.warnAt(at, directive, message), file);
  validateAt(built, file);
  return { config: built.config, warnings: [...early, ...walk.drafts.warnings], server: walk.drafts.server };
}
