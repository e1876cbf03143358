/** The command line: `serve --apache FILE [--listen HOST:PORT]`, `serve --config FILE`, `check FILE`, `--help`. */

export type Command =
  | { verb: 'help' }
  | { verb: 'serve'; kind: 'apache' | 'config'; file: string; listen: string | undefined }
  | { verb: 'check'; file: string };

export const USAGE = `Usage:
  express-proxy-balancer serve --apache FILE [--listen HOST:PORT]
  express-proxy-balancer serve --config FILE.json|FILE.mjs [--listen HOST:PORT]
  express-proxy-balancer check FILE
  express-proxy-balancer --help

serve   runs a standalone balancer (node:http): the balancers of FILE, and the balancer-manager
        where FILE mounts it. --apache reads an Apache httpd configuration (its first Listen is
        used when --listen is absent); --config reads our own options (JSON, or an ES module whose
        default export is the options), with optional "listen" and "manager" keys.
check   prints the configuration FILE gives as JSON (Apache files are imported) and every
        warning; exit status 1 when FILE has an error.

SIGTERM or SIGINT stops serve gracefully: no new connections, requests in flight finish.
Exit status: 0 done, 1 the configuration has an error, 2 the command line is wrong.`;

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): Command {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help')
    return { verb: 'help' };
  const [verb, ...rest] = argv;
  if (verb === 'check') {
    if (rest.length !== 1 || rest[0]!.startsWith('-')) throw new UsageError('check takes one FILE');
    return { verb: 'check', file: rest[0]! };
  }
  if (verb !== 'serve') throw new UsageError(`unknown command ${JSON.stringify(verb)}`);
  let kind: 'apache' | 'config' | undefined;
  let file: string | undefined;
  let listen: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    if (flag === '--apache' || flag === '--config') {
      if (kind) throw new UsageError('give either --apache or --config, once');
      kind = flag === '--apache' ? 'apache' : 'config';
      file = value;
    } else if (flag === '--listen') {
      listen = value;
    } else throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
    i++;
  }
  if (!kind || file === undefined) throw new UsageError('serve needs --apache FILE or --config FILE');
  return { verb: 'serve', kind, file, listen };
}

/** "8080", "127.0.0.1:8080", "[::1]:8080", "*:80" as a host (undefined: every interface) and port. */
export function parseListen(value: string): { host: string | undefined; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):)?(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535)
    throw new UsageError(`${JSON.stringify(value)} is not a listen address (PORT, HOST:PORT or [IPv6]:PORT)`);
  const host = m[1] === undefined || m[1] === '*' ? undefined : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}
