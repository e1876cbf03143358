import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STATUS_CODES } from 'node:http';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle } from '../e2e/helpers/proxy.js';
import { caseWorker, get, header, inBatches, proxyFor, type Seen } from './response-support.js';
import { testEngine } from '../support/engine.js';

// A worker's bytes must never throw out of the library: an uncaught exception fails the test that caused it.
const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

const BYTES = Array.from({ length: 256 }, (_, b) => b);
const latin1 = (b: number): string => String.fromCharCode(b);

/** RFC 9112 reason-phrase and RFC 9110 field-value characters: HTAB, SP, VCHAR, obs-text. */
const allowed = (b: number): boolean => b === 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80;

/** Status as the client saw it, with the part of the answer the test checks. */
function summary(seen: Seen, part: string | undefined): string {
  return `${seen.status} ${JSON.stringify(part)} ${JSON.stringify(seen.body)}`;
}

describe('every byte from a worker', () => {
  test('every byte 0x00–0xff in the reason phrase: passed on when allowed, the standard text when not, 502 when the line breaks', async (t) => {
    const responses = BYTES.map((b) => `HTTP/1.1 200 A${latin1(b)}B\r\nContent-Length: 2\r\n\r\nok`);
    const worker = await caseWorker(t, responses);
    const p = await proxyFor(t, [{ url: worker.url }]);
    const seen = await inBatches(BYTES, 8, (b) => get(p.base, `/app/case/${b}`));
    const expected = BYTES.map((b) => {
      // CR and LF end the status line: the rest is not HTTP, which Node's client refuses.
      if (b === 0x0a || b === 0x0d) return `502 "${STATUS_CODES[502]!}" "502 Bad Gateway\\n"`;
      // undici reads the reason phrase as UTF-8: an obs-text byte alone is not, so the standard text goes.
      const passed = allowed(b) && !(testEngine === 'undici' && b >= 0x80);
      return `200 ${JSON.stringify(passed ? `A${latin1(b)}B` : 'OK')} "ok"`;
    });
    assert.deepEqual(
      seen.map((s) => summary(s, s.message)),
      expected,
    );
    await assertIdle(p.mw);
  });

  test('every byte 0x00–0xff in a header value: passed on when allowed, 502 otherwise', async (t) => {
    const responses = BYTES.map((b) => `HTTP/1.1 200 OK\r\nX-Value: A${latin1(b)}B\r\nContent-Length: 2\r\n\r\nok`);
    const worker = await caseWorker(t, responses);
    const p = await proxyFor(t, [{ url: worker.url }]);
    const seen = await inBatches(BYTES, 8, (b) => get(p.base, `/app/case/${b}`));
    const expected = BYTES.map((b) =>
      allowed(b) ? `200 ${JSON.stringify(`A${latin1(b)}B`)} "ok"` : `502 undefined "502 Bad Gateway\\n"`,
    );
    assert.deepEqual(
      seen.map((s) => summary(s, header(s.rawHeaders, 'x-value'))),
      expected,
    );
    await assertIdle(p.mw);
  });

  test('a bad reason phrase with an onError configured: the answer passes with the standard text, onError is not involved', async (t) => {
    const worker = await caseWorker(t, ['HTTP/1.1 200 O\x7fK\r\nX-Worker: 1\r\nContent-Length: 2\r\n\r\nok']);
    const p = await proxyFor(t, [{ url: worker.url }], {
      onError: (info, _req, res) => {
        res.writeHead(info.status, { 'content-type': 'text/plain' });
        res.end(`custom ${info.error.code}`);
      },
    });
    const seen = await get(p.base, '/app/case/0');
    assert.deepEqual([seen.status, seen.message, seen.body], [200, 'OK', 'ok']);
    await assertIdle(p.mw);
  });

  test('an onError that throws from its own writeHead (a reason Node refuses) still leaves the plain 502', async (t) => {
    const worker = await caseWorker(t, ['HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\nok']);
    const p = await proxyFor(t, [{ url: worker.url }], {
      onError: (info, _req, res) => {
        res.writeHead(info.status, 'Bad\x01Gateway');
        res.end('never');
      },
    });
    const seen = await get(p.base, '/app/case/0');
    assert.deepEqual([seen.status, seen.message, seen.body], [502, 'Bad Gateway', '502 Bad Gateway\n']);
    assert.equal(header(seen.rawHeaders, 'content-type'), 'text/plain; charset=utf-8');
    await assertIdle(p.mw);
  });
});
