import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { api, nonceOf, postForm, setup, traffic, workerUrl } from './helpers.js';

type Schema = Record<string, unknown>;

/** The schema block of docs/manager.md: the docs and this test cannot drift apart. */
function docsSchema(): Schema {
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

const schema = docsSchema();
const def = (name: string): Schema => ({ $ref: `#/$defs/${name}` });

describe('JSON schema in docs/manager.md', () => {
  test('a fresh snapshot conforms', async (t) => {
    const s = await setup(t);
    const r = await api(s, 'GET', '');
    assert.deepEqual(validate(schema, schema, r.json), []);
  });

  test('after traffic, errors, every flag, sticky settings and an added worker', async (t) => {
    const s = await setup(t, { balancer: { maxattempts: 2 } });
    await traffic(s, 5);
    await s.ups[2]!.stop();
    await traffic(s, 3);
    await postForm(s, {
      w: workerUrl(s, 0),
      w_status_I: '1',
      w_status_N: '1',
      w_status_H: '1',
      w_status_R: '1',
      w_status_C: '1',
      w_lf: '99.99',
      w_ls: '99',
    });
    await postForm(s, { w: workerUrl(s, 1), w_status_S: '1', w_status_D: '1' });
    await postForm(s, { b_ss: 'A|B', b_nwrkr: 'https://example.com:8443/base', b_wyes: '1' });
    const r = await api(s, 'GET', '');
    assert.deepEqual(validate(schema, schema, r.json), []);
    const snap = r.json as { balancers: { workers: { errors: number; lastError: string | null; health: string }[] }[] };
    const c = snap.balancers[0]!.workers[2]!;
    assert.equal(c.errors, 1);
    assert.equal(c.health, 'error');
    assert.match(c.lastError ?? '', /^\d{4}-/);
    assert.equal(snap.balancers[0]!.workers[0]!.health, 'hcfail');
  });

  test('the other answers conform to their $defs', async (t) => {
    const s = await setup(t);
    const nonce = await nonceOf(s);
    const w = `/balancers/oracle/workers/${encodeURIComponent(workerUrl(s, 0))}`;
    const checks: [string, Promise<{ json: unknown }>][] = [
      ['balancerResponse', api(s, 'GET', '/balancers/oracle')],
      ['workerResponse', api(s, 'GET', w)],
      ['workersResponse', api(s, 'GET', '/balancers/oracle/workers')],
      ['balancerResponse', api(s, 'PATCH', '/balancers/oracle', { nonce, maxattempts: 1 })],
      ['workerResponse', api(s, 'PATCH', w, { nonce, lbset: 1 })],
      ['workerResponse', api(s, 'POST', '/balancers/oracle/workers', { nonce, url: 'http://127.0.0.1:9' })],
      ['error', api(s, 'PATCH', w, { nonce, lbset: 100 })],
      ['error', api(s, 'PATCH', w, { nonce: 'x', lbset: 1 })],
      ['error', api(s, 'GET', '/balancers/none')],
      ['error', api(s, 'DELETE', '')],
    ];
    for (const [name, p] of checks) {
      const r = await p;
      assert.deepEqual(validate(schema, def(name), r.json), [], `${name}: ${JSON.stringify(r.json).slice(0, 200)}`);
    }
  });

  test('read-only snapshots conform and carry no nonce', async (t) => {
    const s = await setup(t, { manager: { readOnly: true } });
    const r = await api(s, 'GET', '');
    assert.deepEqual(validate(schema, schema, r.json), []);
    assert.ok(!('nonce' in (r.json as { balancers: object[] }).balancers[0]!));
  });

  test('the validator does catch violations', () => {
    const problems = validate(schema, def('worker'), { name: 1, extra: true, port: 0 });
    assert.ok(problems.some((p) => p.includes('$.name: integer is not string')));
    assert.ok(problems.some((p) => p.includes('$.extra: not in the schema')));
    assert.ok(problems.some((p) => p.includes('$.port: 0 < 1')));
    assert.ok(problems.some((p) => p.includes('$.route: missing')));
  });
});
