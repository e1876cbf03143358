import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, nonceOf, postForm, setup, traffic, workerUrl } from './helpers.js';
import { docsSchema, validate, type Schema } from './json-schema.js';

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
