/**
 * Worker events: each carries worker, balancer, reason and time, is typed per name, never uses the
 * throwing 'error' name, and is also written under the debug namespace express-proxy-balancer:health.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { format } from 'node:util';
import createDebug from 'debug';
import { log } from '../../lib/debug.js';
import { IN_ERROR } from '../../lib/model/status.js';
import { WORKER_EVENTS } from '../../lib/health/events.js';
import { eventList, rig } from './helpers.js';

const lines: string[] = [];
const original = log.health.log;
before(() => {
  createDebug.enable('express-proxy-balancer:health');
  log.health.log = (...args: unknown[]) => void lines.push(format(...args));
});
after(() => {
  log.health.log = original;
  createDebug.disable();
});

describe('worker events', () => {
  it('error and recovered from state changes, each with worker, balancer, reason, time', () => {
    const r = rig([{ url: 'http://a:80', retry: '5s' }, { url: 'http://b:80' }]);
    try {
      r.balancer.markError(r.w(0), 'connect failed: ECONNREFUSED');
      r.clock.advance(5000);
      r.picks(1);
      assert.deepEqual(eventList(r), ['worker-error:a', 'worker-recovered:a']);
      const [err, rec] = r.events;
      assert.equal(err!.worker, r.w(0));
      assert.equal(err!.balancer, r.balancer);
      assert.equal(err!.reason, 'connect failed: ECONNREFUSED');
      assert.equal(rec!.reason, 'retry time passed');
      assert.equal(rec!.time - err!.time, 5000);
      assert.ok(
        lines.some((l) => l.includes('balancer://hc http://a worker-error: connect failed: ECONNREFUSED')),
        lines.join('\n'),
      );
      assert.ok(lines.some((l) => l.includes('worker-recovered')));
    } finally {
      r.stop();
    }
  });

  it('no event is called "error", so an app without listeners never crashes', () => {
    assert.equal((WORKER_EVENTS as readonly string[]).includes('error'), false);
    const r = rig([{ url: 'http://a:80' }]);
    try {
      r.balancer.setFlag(r.w(0), IN_ERROR, true, 'boom');
      assert.equal(r.flags(0), 'E');
    } finally {
      r.stop();
    }
  });
});
