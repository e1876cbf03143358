/**
 * Request targets under the manager's mount that a URL parser would read as "//host…" (an invalid
 * host, port or percent-escape) are a 404 (an unknown manager path), never a 500.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from '../manager/helpers.js';
import { listen } from '../support/http.js';
import { rawGet } from './paths-support.js';

// ("//api" is not here: Express 4 strips one "/" after the mount, so the manager sees "/api".)
const TARGETS = ['//[', '//a:99999/', '//%zz', '//[::1', '//@', '//:/', '///', '//x/api'];

describe('manager paths that look like a host', () => {
  for (const express of [5, 4] as const) {
    test(`Express ${express}: never 500`, async (t) => {
      const s = await setup(t, { express });
      const answers: string[] = [];
      for (const target of TARGETS) {
        const r = await rawGet(s.base, `/balancer-manager${target}`);
        answers.push(`${target} ${r.status}`);
      }
      assert.deepEqual(
        answers,
        TARGETS.map((target) => `${target} 404`),
      );
      // The manager itself still answers on its own paths.
      assert.equal((await rawGet(s.base, '/balancer-manager/')).status, 200);
      assert.equal((await rawGet(s.base, '/balancer-manager/api', 'Accept: application/json\r\n')).status, 200);
    });
  }

  test('on a bare node:http server (no next): 404 from the manager, 400 for a target that is not a path', async (t) => {
    const s = await setup(t);
    const bare = await listen((req, res) => s.router(req, res));
    t.after(() => bare.close());
    const targets = [...TARGETS, '//api', '*', 'http://h/'];
    const answers: string[] = [];
    for (const target of targets) answers.push(`${target} ${(await rawGet(bare.base, target)).status}`);
    assert.deepEqual(answers, [...TARGETS.map((target) => `${target} 404`), '//api 404', '* 400', 'http://h/ 400']);
  });
});
