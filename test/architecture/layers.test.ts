/**
 * The folders of lib/ are layers: each may import only the layers MAY_IMPORT lists for it, and that
 * table has no cycle, so neither has the code. Every import counts: `import type`, `export … from`
 * and dynamic `import()` included. docs/architecture.md explains the layers; keep the two in step.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { cycles, importSpecifiers, layerOf, libEdges, listTs, type Edge } from './imports.js';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

/** Shared by every layer: error classes and codes, debug namespaces, the user-facing logger. */
const BASE = ['errors.ts', 'debug.ts', 'logger.ts'];

/** The entities and selection: everything a pick needs, and nothing of HTTP, health or persistence. */
const SELECTION = ['model/', 'core/', 'select/', 'balancer/', 'schedulers/'];

/** Which layers each layer may import (besides its own files). Bottom of the stack first. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  'errors.ts': [],
  'debug.ts': [],
  'logger.ts': [],
  'model/': [...BASE],
  'schedulers/': [...BASE, 'model/'],
  'store/': [...BASE, 'model/'],
  'config/': [...BASE, 'model/', 'schedulers/', 'store/'],
  'core/': [...BASE, 'model/', 'config/'],
  'select/': [...BASE, 'model/', 'config/', 'core/', 'schedulers/'],
  'balancer/': [...BASE, 'model/', 'config/', 'core/', 'select/', 'schedulers/'],
  'forward/': [...BASE, 'model/', 'config/', 'core/'],
  'health/': [...BASE, 'model/', 'config/', 'core/', 'balancer/', 'forward/'],
  'cluster/': [...BASE, 'model/', 'config/', 'core/', 'balancer/', 'health/', 'store/'],
  'discovery/': [...BASE, ...SELECTION, 'config/'],
  'observe/': [...BASE, ...SELECTION, 'config/', 'health/'],
  'manager/': [...BASE, ...SELECTION, 'config/', 'store/', 'health/', 'cluster/', 'discovery/', 'observe/'],
  'proxy/': [...BASE, ...SELECTION, 'config/', 'forward/'],
  // The Apache importer builds a configuration: it knows the options, nothing that runs them.
  'apache/': [...BASE, 'model/', 'config/'],
  'middleware.ts': [
    ...BASE,
    ...SELECTION,
    ...['config/', 'store/', 'forward/', 'health/', 'cluster/', 'discovery/', 'observe/', 'manager/', 'proxy/'],
  ],
  'index.ts': [
    ...BASE,
    ...SELECTION,
    ...['config/', 'store/', 'forward/', 'health/', 'cluster/', 'discovery/', 'observe/', 'manager/', 'proxy/'],
    ...['middleware.ts', 'apache/'],
  ],
  // The command line: a standalone server built from the same parts a user's app would use.
  'cli/': [...BASE, 'config/', 'manager/', 'middleware.ts', 'apache/'],
};

/** Selection and the entities never reach up into the request machinery, health or persistence. */
const SELECTION_CORE = SELECTION;
const NEVER_FROM_SELECTION_CORE = [
  'proxy/',
  'forward/',
  'health/',
  'observe/',
  'discovery/',
  'manager/',
  'cluster/',
  'store/',
  'middleware.ts',
];

const edges = libEdges(LIB).filter((e) => layerOf(e.from) !== layerOf(e.to));
const allowed = (e: Edge): boolean => MAY_IMPORT[layerOf(e.from)]?.includes(layerOf(e.to)) === true;

describe('import parsing', () => {
  it('finds every form of import and nothing in comments or strings', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from '../b/b.js';",
      "import './side-effect.js';",
      "export { c } from './c.js';",
      "export type * from './d.js';",
      "export * as e from './e.js';",
      "import f = require('./f.js');",
      "const g = await import('./g.js');",
      "type H = import('./h.js').H;",
      'const i = await import(name);',
      "// import x from './comment.js';",
      'const s = "import y from \'./string.js\'";',
      'export const j = 1;',
    ].join('\n');
    assert.deepEqual(importSpecifiers('sample.ts', text), [
      './a.js',
      '../b/b.js',
      './side-effect.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
      './h.js',
      '<computed>',
    ]);
  });

  it('puts each file in its layer', () => {
    assert.equal(layerOf('core/worker.ts'), 'core/');
    assert.equal(layerOf('store/redis/keys.ts'), 'store/');
    assert.equal(layerOf('errors.ts'), 'errors.ts');
  });

  it('finds a cycle, and none in a chain', () => {
    const g = (pairs: [string, string][]): Map<string, Set<string>> => {
      const m = new Map<string, Set<string>>();
      for (const [a, b] of pairs) m.set(a, (m.get(a) ?? new Set()).add(b));
      return m;
    };
    assert.deepEqual(
      cycles(
        g([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'a'],
          ['c', 'd'],
        ]),
      ),
      [['a', 'b', 'c']],
    );
    assert.deepEqual(
      cycles(
        g([
          ['a', 'b'],
          ['b', 'c'],
        ]),
      ),
      [],
    );
  });
});

describe('the layer table', () => {
  it('names every file and folder at the top of lib/', () => {
    const layers = [...new Set(listTs(LIB).map(layerOf))].sort();
    const missing = layers.filter((l) => !(l in MAY_IMPORT));
    assert.deepEqual(missing, [], `add these to MAY_IMPORT (and docs/architecture.md): ${missing.join(', ')}`);
  });

  it('has no cycle', () => {
    const graph = new Map(Object.entries(MAY_IMPORT).map(([k, v]) => [k, new Set(v)]));
    assert.deepEqual(cycles(graph), []);
  });

  it('lets the entities and selection (model/, core/, select/, balancer/, schedulers/) import nothing above them', () => {
    for (const layer of SELECTION_CORE) {
      const reach = MAY_IMPORT[layer]!.filter((l) => NEVER_FROM_SELECTION_CORE.includes(l));
      assert.deepEqual(reach, [], `${layer} may not import ${reach.join(', ')}`);
    }
  });
});

describe('lib/ imports', () => {
  it('has imports to check', () => {
    // A parser that found nothing would pass every check below.
    assert.ok(edges.some((e) => e.from === 'middleware.ts' && e.to === 'proxy/handle.ts'));
    assert.ok(edges.some((e) => e.from === 'index.ts' && e.to === 'errors.ts'));
  });

  it('follows the layer table', () => {
    const bad = edges.filter((e) => !allowed(e));
    const lines = bad.map(
      (e) => `lib/${e.from} imports '${e.specifier}' (${layerOf(e.from)} may not import ${layerOf(e.to)})`,
    );
    assert.deepEqual(lines, [], `imports against the layer table:\n  ${lines.join('\n  ')}`);
  });

  it('has no cycle between layers', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      const from = layerOf(e.from);
      graph.set(from, (graph.get(from) ?? new Set()).add(layerOf(e.to)));
    }
    assert.deepEqual(cycles(graph), []);
  });
});
