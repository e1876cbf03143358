/** Reading the user-facing Markdown: fenced blocks, links and GitHub's heading anchors. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/** README.md and docs/*.md: the pages users read (paths relative to the repository root). */
export function userPages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export function read(page: string): string {
  return readFileSync(join(ROOT, page), 'utf8');
}

export interface Block {
  /** The info string after the fence, e.g. "ts" or "ts fragment". */
  info: string;
  /** 1-based line of the first line inside the fence. */
  line: number;
  text: string;
}

export function fencedBlocks(markdown: string): Block[] {
  const out: Block[] = [];
  let open: { info: string; line: number; lines: string[]; fence: string } | undefined;
  markdown.split('\n').forEach((l, i) => {
    const m = /^\s*(```+|~~~+)\s*(.*)$/.exec(l);
    if (!open) {
      if (m) open = { info: m[2]!.trim(), line: i + 2, lines: [], fence: m[1]! };
    } else if (m && m[1]!.startsWith(open.fence[0]!) && m[2] === '') {
      out.push({ info: open.info, line: open.line, text: open.lines.join('\n') });
      open = undefined;
    } else open.lines.push(l);
  });
  return out;
}

/** The lines outside fenced blocks, with inline code blanked (links inside code are not links). */
export function prose(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fenced = false;
  markdown.split('\n').forEach((l, i) => {
    if (/^\s*(```|~~~)/.test(l)) {
      fenced = !fenced;
      return;
    }
    if (!fenced) out.push({ line: i + 1, text: l.replace(/`[^`]*`/g, (c) => ' '.repeat(c.length)) });
  });
  return out;
}

/** Markdown link targets `[text](target)` outside code, with their lines. */
export function links(markdown: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  for (const { line, text } of prose(markdown)) {
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ line, target: m[1]! });
  }
  return out;
}

/**
 * The anchors GitHub gives a page's headings: the heading's text (inline code, links and emphasis
 * marks removed) lower-cased, every character other than letters, digits, spaces, "-" and "_"
 * dropped, spaces turned into "-"; a repeated slug gets "-1", "-2", … Explicit `<a id="…">` too.
 */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const l of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(l)) fenced = !fenced;
    if (fenced) continue;
    for (const m of l.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]!);
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!h) continue;
    const text = h[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/`/g, '')
      .replace(/<[^>]+>/g, '')
      .replace(/\*+/g, '');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug);
    out.add(n === undefined ? slug : `${slug}-${n}`);
    seen.set(slug, (n ?? 0) + 1);
  }
  return out;
}
