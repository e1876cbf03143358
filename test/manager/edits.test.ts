import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseFormChange,
  parseJsonAddWorker,
  parseJsonBalancerEdit,
  parseJsonWorkerEdit,
} from '../../lib/manager/edits.js';
import { ManagerError } from '../../lib/manager/types.js';
import type { ChangeSet } from '../../lib/balancer/admin.js';

const W = 'http://127.0.0.1:18011';

function form(fields: Record<string, string>): ChangeSet {
  return parseFormChange({ b: 'oracle', nonce: 'n', ...fields }).change;
}

function refused(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ManagerError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.code, 'ERR_MANAGER_INVALID');
    assert.equal(err.field, field);
    return true;
  });
}

/** [field, value, expected parsed change (or undefined when refused)] */
type Case = [string, string, unknown];

const WORKER_CASES: Case[] = [
  ['w_lf', '1', { lbfactor: 100 }],
  ['w_lf', '100', { lbfactor: 10_000 }],
  ['w_lf', '100.00', { lbfactor: 10_000 }],
  ['w_lf', '3', { lbfactor: 300 }],
  ['w_lf', '1.15', { lbfactor: 115 }],
  ['w_lf', '99.99', { lbfactor: 9999 }],
  ['w_lf', '0.99', undefined],
  ['w_lf', '0', undefined],
  ['w_lf', '100.01', undefined],
  ['w_lf', '101', undefined],
  ['w_lf', '1.234', undefined],
  ['w_lf', '-1', undefined],
  ['w_lf', '1e2', undefined],
  ['w_lf', '', undefined],
  ['w_lf', 'abc', undefined],
  ['w_ls', '0', { lbset: 0 }],
  ['w_ls', '99', { lbset: 99 }],
  ['w_ls', '100', undefined],
  ['w_ls', '-1', undefined],
  ['w_ls', '1.5', undefined],
  ['w_ls', '', undefined],
  ['w_wr', 'r9', { route: 'r9' }],
  ['w_wr', '', { route: '' }],
  ['w_wr', 'x'.repeat(63), { route: 'x'.repeat(63) }],
  ['w_wr', 'x'.repeat(64), undefined],
  ['w_wr', 'a b', undefined],
  ['w_wr', 'a;b', undefined],
  ['w_wr', 'a|b', undefined],
  ['w_wr', 'a\u0001', undefined],
  ['w_rr', 'r2', { redirect: 'r2' }],
  ['w_rr', '', { redirect: '' }],
  ['w_rr', 'a=b', undefined],
  ['w_rr', 'y'.repeat(64), undefined],
];
for (const l of ['I', 'N', 'D', 'H', 'R', 'S', 'C']) {
  WORKER_CASES.push([`w_status_${l}`, '1', { flags: { [l]: true } }]);
  WORKER_CASES.push([`w_status_${l}`, '0', { flags: { [l]: false } }]);
  WORKER_CASES.push([`w_status_${l}`, '2', undefined]);
  WORKER_CASES.push([`w_status_${l}`, 'on', undefined]);
  WORKER_CASES.push([`w_status_${l}`, '', undefined]);
}

describe("Apache's worker form fields: valid, boundary, invalid", () => {
  for (const [field, value, want] of WORKER_CASES) {
    test(`${field}=${JSON.stringify(value.length > 12 ? `${value.slice(0, 6)}…(${value.length})` : value)} → ${want ? 'ok' : '400'}`, () => {
      if (want === undefined) return refused(() => form({ w: W, [field]: value }), field);
      assert.deepEqual(form({ w: W, [field]: value }).workerEdit, want);
    });
  }
  test('w_status_E is not editable (only the retry timer clears E)', () =>
    refused(() => form({ w: W, w_status_E: '0' }), 'w_status_E'));
  test('worker fields need w', () => refused(() => form({ w_lf: '2' }), 'w'));
  test('several fields form one change set', () => {
    const c = form({ w: W, w_lf: '2.5', w_ls: '1', w_wr: 'r', w_rr: '', w_status_D: '1', w_status_H: '0' });
    assert.deepEqual(c, {
      balancer: 'oracle',
      worker: W,
      workerEdit: { lbfactor: 250, lbset: 1, route: 'r', redirect: '', flags: { D: true, H: false } },
    });
  });
});

const BALANCER_CASES: Case[] = [
  ['b_lbm', 'byrequests', { lbmethod: 'byrequests' }],
  ['b_lbm', 'bytraffic', { lbmethod: 'bytraffic' }],
  ['b_lbm', 'bybusyness', { lbmethod: 'bybusyness' }],
  ['b_lbm', 'heartbeat', undefined],
  ['b_lbm', 'ByRequests', undefined],
  ['b_lbm', '', undefined],
  ['b_tmo', '0', { timeoutMs: 0 }],
  ['b_tmo', '7200', { timeoutMs: 7_200_000 }],
  ['b_tmo', '1.5', { timeoutMs: 1500 }],
  ['b_tmo', '7201', undefined],
  ['b_tmo', '-1', undefined],
  ['b_tmo', '5s', undefined],
  ['b_tmo', '', undefined],
  ['b_max', '0', { maxattempts: 0 }],
  ['b_max', '99', { maxattempts: 99 }],
  ['b_max', '100', undefined],
  ['b_max', '-1', undefined],
  ['b_max', 'x', undefined],
  ['b_sforce', '1', { nofailover: true }],
  ['b_sforce', '0', { nofailover: false }],
  ['b_sforce', 'On', undefined],
  ['b_ss', 'JSESSIONID', { sticky: { cookie: 'JSESSIONID', param: 'JSESSIONID' } }],
  ['b_ss', 'A|B', { sticky: { cookie: 'A', param: 'B' } }],
  ['b_ss', 'A | B', { sticky: { cookie: 'A', param: 'B' } }],
  ['b_ss', '-', { sticky: null }],
  ['b_ss', 'A|B|C', undefined],
  ['b_ss', 'A|', undefined],
  ['b_ss', 'a;b', undefined],
  ['b_ss', 'x'.repeat(64), undefined],
];

describe("Apache's balancer form fields: valid, boundary, invalid", () => {
  for (const [field, value, want] of BALANCER_CASES) {
    test(`${field}=${JSON.stringify(value.length > 12 ? `${value.slice(0, 6)}…` : value)} → ${want ? 'ok' : '400'}`, () => {
      if (want === undefined) return refused(() => form({ [field]: value }), field);
      assert.deepEqual(form({ [field]: value }).balancerEdit, want);
    });
  }
  test('an empty b_ss changes nothing (as in Apache); "-" is the way to clear', () => {
    refused(() => form({ b_ss: '' }), 'b');
    assert.equal(form({ b_ss: '', b_max: '1' }).balancerEdit?.sticky, undefined);
  });
  test('b_nwrkr with b_wyes=1 adds a worker', () => {
    assert.equal(form({ b_nwrkr: 'http://127.0.0.1:18014', b_wyes: '1' }).addWorker, 'http://127.0.0.1:18014');
  });
  test('b_nwrkr without the "Are you sure?" box is refused', () => {
    refused(() => form({ b_nwrkr: 'http://127.0.0.1:18014' }), 'b_wyes');
    refused(() => form({ b_nwrkr: 'http://127.0.0.1:18014', b_wyes: '0' }), 'b_wyes');
  });
  test('an empty b_nwrkr (the form always sends it) adds nothing', () => {
    assert.equal(form({ b_nwrkr: '', b_max: '1' }).addWorker, undefined);
  });
  test('the balancer may be named with or without balancer://, any case', () => {
    assert.equal(parseFormChange({ b: 'balancer://Oracle', b_max: '1' }).change.balancer, 'oracle');
  });
});

describe('form requests as a whole', () => {
  test('b is required (CVE-2007-6422: a worker is only looked up in a named balancer)', () => {
    assert.throws(
      () => parseFormChange({ w: W, w_lf: '2', nonce: 'n' }),
      (e: ManagerError) => e.field === 'b' && e.status === 400,
    );
  });
  test('a request without any change is refused', () => refused(() => form({ w: W }), 'w'));
  test('unknown fields are refused, not ignored', () => {
    refused(() => form({ w: W, w_hx: 'GET' }), 'w_hx');
    refused(() => form({ lf: '2' }), 'lf');
  });
  test('the nonce is passed on untouched for the router to check', () => {
    assert.equal(parseFormChange({ b: 'oracle', nonce: 'abc', b_max: '1' }).nonce, 'abc');
  });
});

describe('JSON API bodies', () => {
  test('worker edit: names, types and ranges', () => {
    assert.deepEqual(
      parseJsonWorkerEdit({ loadfactor: 2.5, lbset: 3, route: 'r', redirect: '', flags: { D: true, N: false } }),
      {
        lbfactor: 250,
        lbset: 3,
        route: 'r',
        redirect: '',
        flags: { D: true, N: false },
      },
    );
    assert.deepEqual(parseJsonWorkerEdit({ loadfactor: '100' }), { lbfactor: 10_000 });
    refused(() => parseJsonWorkerEdit({ loadfactor: 0.5 }), 'loadfactor');
    refused(() => parseJsonWorkerEdit({ loadfactor: 1.001 }), 'loadfactor');
    refused(() => parseJsonWorkerEdit({ lbset: 100 }), 'lbset');
    refused(() => parseJsonWorkerEdit({ flags: { E: false } }), 'flags.E');
    refused(() => parseJsonWorkerEdit({ flags: { D: 1 } }), 'flags.D');
    refused(() => parseJsonWorkerEdit({ flags: 'D' }), 'flags');
    refused(() => parseJsonWorkerEdit({ w_lf: '2' }), 'w_lf');
    refused(() => parseJsonWorkerEdit({}), 'body');
  });
  test('balancer edit: names, types and ranges', () => {
    assert.deepEqual(
      parseJsonBalancerEdit({
        lbmethod: 'bytraffic',
        timeoutMs: 7_200_000,
        maxattempts: 0,
        nofailover: true,
        stickysession: 'A|B',
      }),
      {
        lbmethod: 'bytraffic',
        timeoutMs: 7_200_000,
        maxattempts: 0,
        nofailover: true,
        sticky: { cookie: 'A', param: 'B' },
      },
    );
    assert.deepEqual(parseJsonBalancerEdit({ stickysession: null }), { sticky: null });
    assert.deepEqual(parseJsonBalancerEdit({ stickysession: '-' }), { sticky: null });
    refused(() => parseJsonBalancerEdit({ timeoutMs: 7_200_001 }), 'timeoutMs');
    refused(() => parseJsonBalancerEdit({ maxattempts: -1 }), 'maxattempts');
    refused(() => parseJsonBalancerEdit({ nofailover: 'yes' }), 'nofailover');
    refused(() => parseJsonBalancerEdit({ lbmethod: 'nope' }), 'lbmethod');
    refused(() => parseJsonBalancerEdit({ stickysession: 5 }), 'stickysession');
  });
  test('add worker: a url is required', () => {
    assert.equal(parseJsonAddWorker({ url: ' http://h:1 ' }), 'http://h:1');
    refused(() => parseJsonAddWorker({}), 'url');
    refused(() => parseJsonAddWorker({ url: 'http://h:1', status: 'D' }), 'status');
  });
});
