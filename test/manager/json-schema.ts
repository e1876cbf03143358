import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Schema = Record<string, unknown>;

/** The schema block of docs/manager.md: the docs and this test cannot drift apart. */
export function docsSchema(): Schema {
  const md = readFileSync(fileURLToPath(new URL('../../docs/manager.md', import.meta.url)), 'utf8');
  const at = md.indexOf('### Snapshot schema');
  const block = /```json\n([\s\S]*?)\n```/.exec(md.slice(at));
  assert.ok(at >= 0 && block, 'docs/manager.md has a "Snapshot schema" JSON block');
  return JSON.parse(block[1]!) as Schema;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * The JSON Schema subset the docs use: type (incl. lists), const, enum, pattern, minimum, maximum,
 * properties, required, additionalProperties: false, items, and local $ref. Returns the problems.
 */
export function validate(root: Schema, schema: Schema, v: unknown, path = '$'): string[] {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/$defs/', '');
    return validate(root, (root.$defs as Record<string, Schema>)[name]!, v, path);
  }
  const out: string[] = [];
  const t = typeOf(v);
  if (schema.type !== undefined) {
    const types = ([] as string[]).concat(schema.type as string | string[]);
    if (!types.some((x) => x === t || (x === 'number' && t === 'integer')))
      return [`${path}: ${t} is not ${types.join('|')}`];
  }
  if ('const' in schema && v !== schema.const) out.push(`${path}: not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(v)) out.push(`${path}: ${JSON.stringify(v)} not in enum`);
  if (typeof schema.pattern === 'string' && typeof v === 'string' && !new RegExp(schema.pattern).test(v)) {
    out.push(`${path}: ${JSON.stringify(v)} does not match ${schema.pattern}`);
  }
  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && v < schema.minimum) out.push(`${path}: ${v} < ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && v > schema.maximum) out.push(`${path}: ${v} > ${schema.maximum}`);
  }
  if (t === 'object') out.push(...validateObject(root, schema, v as Record<string, unknown>, path));
  if (t === 'array' && schema.items)
    (v as unknown[]).forEach((x, i) => out.push(...validate(root, schema.items as Schema, x, `${path}[${i}]`)));
  return out;
}

function validateObject(root: Schema, schema: Schema, v: Record<string, unknown>, path: string): string[] {
  const out: string[] = [];
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const r of (schema.required ?? []) as string[]) if (!(r in v)) out.push(`${path}.${r}: missing`);
  for (const [k, x] of Object.entries(v)) {
    if (props[k]) out.push(...validate(root, props[k], x, `${path}.${k}`));
    else if (schema.additionalProperties === false) out.push(`${path}.${k}: not in the schema`);
  }
  return out;
}
