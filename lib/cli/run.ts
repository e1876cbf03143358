/** The command line's verbs; returns the exit status. */
import { ConfigError } from '../errors.js';
import { validateConfig } from '../config/validate.js';
import { USAGE, UsageError, parseArgs } from './args.js';
import { FileError, formatWarning, loadAny, loadApache, loadOptions, type Loaded } from './load.js';
import { serve } from './serve.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Resolves on the first SIGTERM or SIGINT. */
  stopSignal(): Promise<string>;
}

const NAME = 'express-proxy-balancer';

/** RegExps (hcbody) as their source text, functions as a note: JSON has neither. */
function printable(_key: string, value: unknown): unknown {
  if (value instanceof RegExp) return String(value);
  if (typeof value === 'function') return '[function]';
  return value;
}

/** The error's message, led by the file (and line) it is about. */
function errorLine(err: unknown, file: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return err instanceof FileError || (err instanceof ConfigError && message.startsWith(file))
    ? message
    : `${file}: ${message}`;
}

async function check(file: string, io: Io): Promise<number> {
  const loaded = await loadAny(file);
  validateConfig(loaded.config);
  io.out(
    JSON.stringify(
      {
        ...loaded.config,
        ...(loaded.manager && { manager: loaded.manager }),
        ...(loaded.listen && { listen: loaded.listen }),
      },
      printable,
      2,
    ),
  );
  for (const w of loaded.warnings) io.err(formatWarning(w));
  io.err(`${file}: ${loaded.warnings.length} warning${loaded.warnings.length === 1 ? '' : 's'}`);
  return 0;
}

async function serveCommand(
  kind: 'apache' | 'config',
  file: string,
  listen: string | undefined,
  io: Io,
): Promise<number> {
  const loaded: Loaded = kind === 'apache' ? loadApache(file) : await loadOptions(file);
  for (const w of loaded.warnings) io.err(formatWarning(w));
  const running = await serve(loaded, listen);
  io.out(
    `${NAME}: listening on ${running.url}${loaded.manager ? ` (manager at ${running.url}${loaded.manager})` : ''}`,
  );
  const signal = await io.stopSignal();
  io.out(`${NAME}: ${signal}: stopping (requests in flight may finish)`);
  await running.close();
  io.out(`${NAME}: stopped`);
  return 0;
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  let file = '';
  try {
    const cmd = parseArgs(argv);
    if (cmd.verb === 'help') {
      io.out(USAGE);
      return 0;
    }
    file = cmd.file;
    return cmd.verb === 'check' ? await check(cmd.file, io) : await serveCommand(cmd.kind, cmd.file, cmd.listen, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${NAME}: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`${NAME}: ${errorLine(err, file)}`);
    return 1;
  }
}
