/** A configuration file: an Apache httpd one imported, or our own options as JSON or an ES module. */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BalancerConfig } from '../config/options.js';
import { fromApacheConfig } from '../apache/import.js';
import type { ApacheWarning } from '../apache/types.js';

export interface Loaded {
  config: BalancerConfig;
  warnings: ApacheWarning[];
  listen: string | undefined;
  manager: string | undefined;
}

/** A configuration file that cannot be used; the message starts with the file (and line). */
export class FileError extends Error {
  constructor(where: string, why: string) {
    super(`${where}: ${why}`);
    this.name = 'FileError';
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new FileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export function loadApache(file: string): Loaded {
  const { config, warnings, server } = fromApacheConfig(readText(file), { file });
  return { config, warnings, listen: server.listen, manager: server.manager };
}

/** Line of a JSON syntax error, from the position or line Node's message gives. */
function jsonLine(text: string, message: string): number {
  const line = /line (\d+)/.exec(message);
  if (line) return Number(line[1]);
  const pos = /position (\d+)/.exec(message);
  return pos ? text.slice(0, Number(pos[1])).split('\n').length : 1;
}

export async function loadOptions(file: string): Promise<Loaded> {
  let value: unknown;
  if (/\.json$/i.test(file)) {
    const text = readText(file);
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new FileError(`${file}:${jsonLine(text, (err as Error).message)}`, `not JSON: ${(err as Error).message}`);
    }
  } else if (/\.m?js$/i.test(file)) {
    readText(file);
    const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown };
    value = mod.default;
  } else {
    throw new FileError(file, 'is not a .json, .mjs or .js file');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FileError(file, 'does not hold an options object');
  }
  const { listen, manager, ...config } = value as Record<string, unknown>;
  if (listen !== undefined && typeof listen !== 'string') throw new FileError(file, 'listen is not a string');
  if (manager !== undefined && typeof manager !== 'string') throw new FileError(file, 'manager is not a path');
  return { config: config as unknown as BalancerConfig, warnings: [], listen, manager };
}

/** By extension: our options for .json/.mjs/.js, an Apache file for anything else. */
export function loadAny(file: string): Promise<Loaded> {
  return /\.(json|m?js)$/i.test(file) ? loadOptions(file) : Promise.resolve(loadApache(file));
}

export function formatWarning(w: ApacheWarning): string {
  return `${w.file}:${w.line}: ${w.directive}: ${w.message}`;
}
