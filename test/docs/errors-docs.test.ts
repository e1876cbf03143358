/**
 * docs/errors.md and lib/errors.ts stay in step (fastify's errors parity test): every code in
 * ERROR_CODES has exactly one `### ERR_…` anchor in the docs, and every such anchor is a real code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../../lib/errors.js';

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

const codes = Object.keys(ERROR_CODES);
const documented = anchors(doc);

describe('docs/errors.md', () => {
  it('has an anchor for every code in ERROR_CODES', () => {
    const missing = codes.filter((c) => !documented.includes(c));
    assert.deepEqual(missing, [], `codes without a "### CODE" section in docs/errors.md: ${missing.join(', ')}`);
  });

  it('documents only real codes', () => {
    const unknown = documented.filter((c) => !codes.includes(c));
    assert.deepEqual(unknown, [], `anchors in docs/errors.md that are not in ERROR_CODES: ${unknown.join(', ')}`);
  });

  it('documents each code once', () => {
    const dupes = documented.filter((c, i) => documented.indexOf(c) !== i);
    assert.deepEqual(dupes, [], `codes documented more than once: ${dupes.join(', ')}`);
  });

  it('has no heading that looks like a code but is malformed', () => {
    const loose = doc.split('\n').filter((l) => /^#{1,6}\s+`?ERR_/.test(l) && !/^###\s+`?ERR_[A-Z0-9_]*`?\s*$/.test(l));
    assert.deepEqual(loose, [], 'error codes must be level-3 headings of the code alone ("### ERR_NAME")');
  });
});
