import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistedBalancer, StateStore } from '../../lib/index.js';
import { api, nonceOf, setup, workerUrl } from './helpers.js';

/** A store that loads nothing and refuses every save with `error` (a store the user wrote, or one whose server is down). */
function refusingStore(error: Error): StateStore {
  return {
    load: () => Promise.resolve(undefined),
    save: (_b: string, _s: PersistedBalancer) => Promise.reject(error),
  };
}

describe('a change the store does not save is answered honestly', () => {
  test('a store that kept it for later (queued): 503 ERR_MANAGER_STORE_QUEUED, and the change is in effect', async (t) => {
    const queued = Object.assign(new Error('Redis is failing over'), { queued: true });
    const s = await setup(t, { config: { store: refusingStore(queued) } });
    const path = `/balancers/oracle/workers/${encodeURIComponent(workerUrl(s, 1))}`;
    const r = await api(s, 'PATCH', path, { nonce: await nonceOf(s), flags: { D: true } });
    assert.equal(r.status, 503);
    assert.deepEqual((r.json as { error: { code: string; message: string } }).error, {
      code: 'ERR_MANAGER_STORE_QUEUED',
      message: 'the change was applied on this instance and is queued: Redis is failing over',
      field: null,
    });
    assert.equal(((await api(s, 'GET', path)).json as { worker: { status: string } }).worker.status, 'D');
  });

  test('a store that lost it: 500 ERR_MANAGER_STORE', async (t) => {
    const s = await setup(t, { config: { store: refusingStore(new Error('disk full')) } });
    const path = `/balancers/oracle/workers/${encodeURIComponent(workerUrl(s, 1))}`;
    const r = await api(s, 'PATCH', path, { nonce: await nonceOf(s), flags: { D: true } });
    assert.equal(r.status, 500);
    assert.equal((r.json as { error: { code: string } }).error.code, 'ERR_MANAGER_STORE');
  });
});
