/**
 * The user-facing pages (README.md, docs/*.md) hold together for a reader with only this repository:
 * every relative link and #anchor resolves (GitHub's anchor rules), nothing names a path of a
 * particular machine or how the project was built, and every ```ts block type-checks against the
 * public types under strict TypeScript (a block marked ```ts fragment is skipped).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { ROOT, anchors, fencedBlocks, links, read, userPages } from './markdown.js';

const pages = userPages();
/** Also checked for links and wording: the other Markdown a user of the repository opens. */
const otherPages = ['CHANGELOG.md', 'examples/README.md'];

describe('docs: links and anchors', () => {
  it('finds the pages', () => {
    assert.ok(pages.includes('README.md') && pages.includes('docs/production.md'), pages.join(', '));
  });

  it('every relative link and #anchor resolves', () => {
    const broken: string[] = [];
    for (const page of [...pages, ...otherPages]) {
      for (const { line, target } of links(read(page))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [file = '', hash] = target.split('#');
        const path = file === '' ? page : posix.normalize(posix.join(posix.dirname(page), decodeURI(file)));
        const where = `${page}:${line}: ${target}`;
        if (path.startsWith('..') || !existsSync(join(ROOT, path))) {
          broken.push(`${where} (no file ${path})`);
          continue;
        }
        if (hash === undefined) continue;
        if (!path.endsWith('.md') || statSync(join(ROOT, path)).isDirectory()) {
          broken.push(`${where} (an anchor into a file that is not Markdown)`);
          continue;
        }
        if (!anchors(read(path)).has(decodeURIComponent(hash)))
          broken.push(`${where} (no heading #${hash} in ${path})`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('computes anchors the way GitHub does', () => {
    const a = anchors(
      '# Sixth pass: sticky selection\n## `X-Forwarded-*` and trusted proxies\n## 2. Find the sticky route\n## Same\n## Same\n',
    );
    assert.deepEqual(
      [...a],
      ['sixth-pass-sticky-selection', 'x-forwarded--and-trusted-proxies', '2-find-the-sticky-route', 'same', 'same-1'],
    );
  });
});

/** What must never appear in product text: machine paths, and how the project was built. */
const FORBIDDEN: [RegExp, string][] = [
  [/(^|[\s(`'"=])\/(work|root|home|tmp)\//, 'a path of a particular machine'],
  [/\.\.\/shared\b|\bshared\/(oracle|bench|reference)/, 'a folder outside the repository'],
  [/\boracle\b/i, '"oracle" (name test/conformance/ instead)'],
  [/(?<![-\w])apache\.md\b/, 'a reference file outside the repository'],
  [/\bissue\s*#?\d+|(?<![\w/.-])#\d+(?![-\w])/i, 'an issue number'],
  [/\b(first|second|third|fourth|fifth|sixth|seventh|eighth) pass\b/i, 'an optimisation diary'],
  [/\bdiary\b/i, 'an optimisation diary'],
  [
    /\b(this|the|other|during the) sessions?(['’]s?|\b)(?! (cookie|ids?|values?|route|names?|sticky|store|data)\b)/i,
    '"session" meaning a work session',
  ],
  [/\bhelpers?\b|\bthe lead\b/i, 'how the work was organised'],
];

describe('docs: wording for users', () => {
  it('names no machine paths and nothing about how the project was built', () => {
    const found: string[] = [];
    for (const page of [...pages, ...otherPages]) {
      read(page)
        .split('\n')
        .forEach((text, i) => {
          for (const [re, what] of FORBIDDEN)
            if (re.test(text)) found.push(`${page}:${i + 1}: ${what}: ${text.trim()}`);
        });
    }
    assert.deepEqual(found, []);
  });

  it('the checks catch what they are for', () => {
    const hits = (s: string): string[] => FORBIDDEN.filter(([re]) => re.test(s)).map(([, w]) => w);
    assert.equal(hits('see /work/shared/oracle').length, 3);
    assert.deepEqual(hits('(issue #7, scope items)'), ['an issue number']);
    assert.deepEqual(hits('## Fourth pass: maps'), ['an optimisation diary']);
    assert.deepEqual(hits('moved by 2x during the session'), ['"session" meaning a work session']);
    assert.deepEqual(hits('the session cookie carries the route'), []);
    assert.deepEqual(hits('sticky sessions, a user session, stickysession'), []);
    assert.deepEqual(hits('curl -c jar.txt http://127.0.0.1:8080/app/login'), []);
  });
});

describe('docs: ```ts blocks type-check against the public types', () => {
  it('every block compiles under strict TypeScript', { timeout: 120_000 }, () => {
    const scratch = join(ROOT, '.run');
    mkdirSync(scratch, { recursive: true });
    const dir = mkdtempSync(join(scratch, 'docs-ts-'));
    try {
      const origin = new Map<string, string>();
      let n = 0;
      for (const page of pages) {
        for (const b of fencedBlocks(read(page))) {
          const [lang, ...flags] = b.info.split(/\s+/);
          if ((lang !== 'ts' && lang !== 'typescript') || flags.includes('fragment')) continue;
          // A block whose first line is `// name.ts` is that file of a multi-file example, next to the
          // page's other named blocks; the rest get a file each. `export {}` makes every block a module
          // of its own, so top-level names never clash.
          const named = /^\/\/ ([\w-]+\.ts)\s*$/.exec(b.text.split('\n')[0] ?? '')?.[1];
          const file = named ? `${page.replace(/\W/g, '_')}/${named}` : `block${++n}.ts`;
          mkdirSync(dirname(join(dir, file)), { recursive: true });
          writeFileSync(join(dir, file), `${b.text}\nexport {};\n`);
          origin.set(file, `${page}:${b.line}`);
        }
      }
      assert.ok(origin.size >= 20, `found only ${origin.size} blocks`);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023'],
            module: 'ESNext',
            moduleResolution: 'Bundler',
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ['node'],
            typeRoots: [join(ROOT, 'node_modules', '@types')],
            paths: { 'express-proxy-balancer': [join(ROOT, 'lib', 'index.ts')] },
          },
          include: ['**/*.ts'],
        }),
      );
      let out = '';
      try {
        execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
          cwd: dirname(dir),
          encoding: 'utf8',
        });
      } catch (err) {
        out = String((err as { stdout?: string }).stdout ?? err);
      }
      // "block3.ts(4,7): error TS…" → "docs/manager.md:120 (+3): error TS…"
      const errors = out
        .split('\n')
        .filter((l) => /error TS\d+/.test(l))
        .map((l) =>
          l.replace(/^(?:docs-ts-[^/\\]+[/\\])?(\S+\.ts)\((\d+),\d+\)/, (_m, f: string, line: string) => {
            return `${origin.get(f) ?? f} (+${Number(line) - 1})`;
          }),
        );
      assert.deepEqual(errors, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
