/**
 * docs/errors.md and lib/errors.ts stay in step (fastify's errors parity test): every code in
 * ERRORS, whatever its class, has exactly one `### ERR_…` anchor in the docs, and every such anchor
 * is a real code; the summary table lists each code with the table's status, and a section of a
 * code that answers HTTP opens with that status.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERRORS, errorDocs } from '../../lib/errors.js';

const docPath = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));
const doc = readFileSync(docPath, 'utf8');

/** Every `### NAME` heading whose name looks like an error code (outside fenced code blocks). */
function anchors(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const m = /^###\s+`?(ERR_[A-Z0-9_]*)`?\s*$/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

const table: Record<string, { status: readonly number[] }> = ERRORS;
const codes = Object.keys(ERRORS);
const documented = anchors(doc);

describe('docs/errors.md', () => {
  it('has an anchor for every code in ERRORS', () => {
    const missing = codes.filter((c) => !documented.includes(c));
    assert.deepEqual(missing, [], `codes without a "### CODE" section in docs/errors.md: ${missing.join(', ')}`);
  });

  it('documents only real codes', () => {
    const unknown = documented.filter((c) => !codes.includes(c));
    assert.deepEqual(unknown, [], `anchors in docs/errors.md that are not in ERRORS: ${unknown.join(', ')}`);
  });

  it('documents each code once', () => {
    const dupes = documented.filter((c, i) => documented.indexOf(c) !== i);
    assert.deepEqual(dupes, [], `codes documented more than once: ${dupes.join(', ')}`);
  });

  it('has no heading that looks like a code but is malformed', () => {
    const loose = doc.split('\n').filter((l) => /^#{1,6}\s+`?ERR_/.test(l) && !/^###\s+`?ERR_[A-Z0-9_]*`?\s*$/.test(l));
    assert.deepEqual(loose, [], 'error codes must be level-3 headings of the code alone ("### ERR_NAME")');
  });

  it('names RedisStoreError and StoreError among the classes', () => {
    assert.ok(codes.includes('ERR_REDIS_UNAVAILABLE') && documented.includes('ERR_REDIS_UNAVAILABLE'));
    assert.match(doc, /`RedisStoreError`/);
    assert.match(doc, /`StoreError`/);
  });

  it('lists every code in the summary table with its status', () => {
    const rows = new Map<string, string>();
    for (const line of doc.split('\n')) {
      const m = /^\|\s*\[`(ERR_[A-Z0-9_]+)`\]\((#[a-z0-9_]+)\)\s*\|\s*([^|]*?)\s*\|/.exec(line);
      if (!m) continue;
      assert.equal(`docs/errors.md${m[2]}`, errorDocs(m[1] as keyof typeof ERRORS), `the link of ${m[1]}`);
      rows.set(m[1]!, m[3]!);
    }
    assert.deepEqual([...rows.keys()], codes, 'the summary table lists the codes of ERRORS, in its order');
    for (const code of codes) {
      const status = table[code]!.status;
      assert.equal(rows.get(code), status.length === 0 ? '–' : status.join(', '), `status of ${code}`);
    }
  });

  it('opens the section of each code that answers HTTP with its status', () => {
    for (const code of codes) {
      const status = table[code]!.status;
      const at = doc.indexOf(`\n### ${code}\n`);
      const first = doc.slice(at).split('\n')[3] ?? '';
      if (status.length === 0) assert.doesNotMatch(first, /^\*\*\d/, `${code} answers no HTTP status`);
      else
        assert.ok(first.startsWith(`**${status.join(', ')}`), `${code}'s section opens with "**${status.join(', ')}"`);
    }
  });
});
