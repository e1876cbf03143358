/**
 * Include paths: a file, a folder (every file below it) or a pattern with "*", "?" and "[…]" in any
 * segment, sorted like Apache sorts them. Node 20 has no fs.glob, and this needs only the segments.
 */
import fs from 'node:fs';
import path from 'node:path';

const WILDCARD = /[*?[]/;

function segmentPattern(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let body = segment.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`);
  } catch {
    return /(?!)/;
  }
}

function readdir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Every file below `dir`, sorted, at most `limit`. */
function filesBelow(dir: string, limit: number, out: string[]): void {
  for (const name of readdir(dir)) {
    if (out.length >= limit) return;
    const p = path.join(dir, name);
    if (isDir(p)) filesBelow(p, limit, out);
    else out.push(p);
  }
}

/** The files an Include of `pattern` (absolute) reads, or [] when none match. */
export function includeFiles(pattern: string, limit: number): string[] {
  const root = path.parse(pattern).root;
  let found = [root];
  for (const segment of pattern
    .slice(root.length)
    .split(/[/\\]+/)
    .filter(Boolean)) {
    if (!WILDCARD.test(segment)) {
      found = found.map((d) => path.join(d, segment));
      continue;
    }
    const re = segmentPattern(segment);
    found = found.flatMap((d) =>
      readdir(d)
        .filter((n) => re.test(n))
        .map((n) => path.join(d, n)),
    );
  }
  const out: string[] = [];
  for (const p of found) {
    if (out.length >= limit) break;
    if (isDir(p)) filesBelow(p, limit, out);
    else if (fs.existsSync(p)) out.push(p);
  }
  return out;
}

export function hasWildcard(p: string): boolean {
  return WILDCARD.test(p);
}
