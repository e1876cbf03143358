import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, nonceOf } from './helpers.js';
import { request } from '../support/http.js';

/** POST …/workers/:url/drain as a deploy script would. */
function drain(base: string, manager: string, worker: string, body: Record<string, unknown>) {
  const path = `${new URL(manager).pathname}/api/balancers/oracle/workers/${encodeURIComponent(worker)}/drain`;
  return request(base, path, {
    method: 'POST',
    headers: { origin: base, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

test('drain API: sets N at once, answers when the worker has nothing in flight', async (t) => {
  const s = await setup(t);
  const nonce = await nonceOf(s);
  const [a] = s.ups;
  a!.mode = { status: 200, delayMs: 200 };
  const w = s.lb.balancers[0]!.workers[0]!;
  const slow = request(s.base, '/app/slow'); // byrequests: a takes the first request
  for (let i = 0; i < 100 && w.busy === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(w.busy, 1);
  const started = Date.now();
  const reply = await drain(s.base, s.manager, w.name, { nonce, timeoutMs: 5000 });
  assert.equal(reply.status, 200, reply.body);
  const body = JSON.parse(reply.body) as { drained: boolean; worker: { busy: number } };
  assert.equal(body.drained, true);
  assert.equal(body.worker.busy, 0);
  assert.ok(Date.now() - started >= 100, 'waited for the request in flight');
  assert.equal((await slow).status, 200, 'the request in flight finished normally');
  assert.equal(w.draining, true);
  a!.mode = 'ok';
  const later = await Promise.all([1, 2, 3, 4].map((i) => request(s.base, `/app/x${i}`)));
  assert.ok(
    later.every((r) => r.from !== 'a'),
    'no new balanced traffic to the drained worker',
  );
});

test('drain API: answers drained=false at its deadline; needs the nonce; unknown worker is 404', async (t) => {
  const s = await setup(t);
  const nonce = await nonceOf(s);
  s.ups[0]!.mode = 'hang';
  const w = s.lb.balancers[0]!.workers[0]!;
  void request(s.base, '/app/hangs', { timeoutMs: 2000 }).catch(() => undefined);
  for (let i = 0; i < 100 && w.busy === 0; i++) await new Promise((r) => setTimeout(r, 5));
  const late = await drain(s.base, s.manager, w.name, { nonce, timeoutMs: 50 });
  assert.equal(late.status, 200);
  assert.deepEqual((JSON.parse(late.body) as { drained: boolean }).drained, false);
  assert.equal((await drain(s.base, s.manager, w.name, { timeoutMs: 10 })).status, 403);
  assert.equal((await drain(s.base, s.manager, 'http://127.0.0.1:1', { nonce })).status, 404);
  assert.equal((await drain(s.base, s.manager, w.name, { nonce, timeoutMs: -1 })).status, 400);
  assert.equal((await drain(s.base, s.manager, w.name, { nonce, wait: 1 })).status, 400);
});
