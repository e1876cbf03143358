/**
 * Reads the module specifiers a TypeScript file imports, in every form that makes a dependency:
 * `import … from`, `import type`, side-effect `import '…'`, `export … from`, `import x = require()`,
 * dynamic `import()` and type-position `import('…').T`. Parsed with the TypeScript compiler, so
 * comments and strings that merely look like imports are not counted.
 */
import ts from 'typescript';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export function importSpecifiers(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    const spec = specifierOf(node);
    if (spec !== undefined) out.push(spec);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function specifierOf(node: ts.Node): string | undefined {
  if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
    const m = node.moduleSpecifier;
    return m !== undefined && ts.isStringLiteral(m) ? m.text : undefined;
  }
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
    const e = node.moduleReference.expression;
    return ts.isStringLiteral(e) ? e.text : undefined;
  }
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
    const arg = node.arguments[0];
    // A computed import() cannot be checked: report it so the test refuses it.
    return arg !== undefined && ts.isStringLiteralLike(arg) ? arg.text : '<computed>';
  }
  if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
    return node.argument.literal.text;
  }
  return undefined;
}

/** One import of one lib/ file: `from` and `to` are paths relative to lib/, with forward slashes. */
export interface Edge {
  from: string;
  to: string;
  specifier: string;
}

/** Every .ts file below `dir`, relative to it, sorted. */
export function listTs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.ts')) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** Every relative import between files of `libDir` (package imports are not layers). */
export function libEdges(libDir: string): Edge[] {
  const edges: Edge[] = [];
  for (const from of listTs(libDir)) {
    const text = readFileSync(join(libDir, from), 'utf8');
    for (const specifier of importSpecifiers(from, text)) {
      if (!specifier.startsWith('.') && specifier !== '<computed>') continue;
      const target = resolve(dirname(join(libDir, from)), specifier.replace(/\.js$/, '.ts'));
      edges.push({ from, to: relative(libDir, target).split(sep).join('/'), specifier });
    }
  }
  return edges;
}

/** The layer a lib/ file belongs to: its top folder ("core/") or, at the top, its own name ("errors.ts"). */
export function layerOf(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? path : path.slice(0, slash + 1);
}

/** The cycles of a directed graph, one per strongly connected component of two or more nodes. */
export function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const found: string[][] = [];
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let next = 0;
  const strong = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) strong(v);
  return found;
}
