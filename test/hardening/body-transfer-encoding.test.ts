// The balancer de-chunks a request body and chunks it again: the worker is told exactly "chunked",
// never the client's spelling of Transfer-Encoding; codings it cannot re-frame are refused (501).
import { after, afterEach, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { rawBackend, type Backend } from '../e2e/helpers/backends.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle, startProxy, type Proxy } from '../e2e/helpers/proxy.js';
import { rawClient } from './body-raw-client.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

interface Seen {
  /** The request head's lines after the request line, as the worker received them. */
  lines: string[];
  /** The de-chunked body. */
  body: string;
}

/** Decodes a complete chunked body (no trailers) or returns undefined while it is incomplete. */
function dechunk(data: string): string | undefined {
  let body = '';
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol === -1) return undefined;
    const size = parseInt(data.slice(at, eol), 16);
    if (size === 0) return data.startsWith('\r\n', eol + 2) ? body : undefined;
    if (data.length < eol + 2 + size + 2) return undefined;
    body += data.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** A raw TCP worker that records each request head byte for byte and its body, then answers 200. */
async function recordingWorker(t: TestContext): Promise<{ w: Backend; seen: Seen[] }> {
  const seen: Seen[] = [];
  const w = await rawBackend((s: net.Socket) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const lines = buf.slice(0, end).split('\r\n').slice(1);
      const length = /^content-length: *(\d+)$/im.exec(lines.join('\n'));
      const rest = buf.slice(end + 4);
      const body = length ? (rest.length >= Number(length[1]) ? rest : undefined) : dechunk(rest);
      if (body === undefined) return;
      seen.push({ lines, body });
      buf = '';
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  t.after(() => w.close());
  return { w, seen };
}

async function proxy(t: TestContext, url: string, codes: string[]): Promise<Proxy> {
  const p = await startProxy({
    replayBufferBytes: 1024,
    balancers: [{ name: 'app', mount: '/app', members: [{ url }] }],
    onError: (info, _req, res) => {
      codes.push(info.error.code);
      res.writeHead(info.status, { 'content-length': info.error.code.length });
      res.end(info.error.code);
    },
  });
  t.after(() => p.close());
  return p;
}

function chunkedPost(teLines: string[], body: string): string {
  const te = teLines.map((v) => `Transfer-Encoding: ${v}\r\n`).join('');
  return `POST /app/up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${te}\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
}

function framing(lines: readonly string[]): string[] {
  return lines.filter((l) => /^(transfer-encoding|content-length):/i.test(l));
}

const spellings: [string, string[]][] = [
  ['chunked', ['chunked']],
  ['CHUNKED', ['CHUNKED']],
  ['identity, chunked', ['identity, chunked']],
  ['two lines: identity, then chunked', ['identity', 'chunked']],
];

for (const [label, teLines] of spellings) {
  describe(`Transfer-Encoding ${label}`, () => {
    // 10 bytes are buffered for replay; 5000 stream past replayBufferBytes (1024).
    for (const size of [10, 5000]) {
      test(`a ${size}-byte body reaches the worker as "transfer-encoding: chunked" alone`, async (t) => {
        const { w, seen } = await recordingWorker(t);
        const codes: string[] = [];
        const p = await proxy(t, w.url, codes);
        const body = 'x'.repeat(size - 1) + 'y';
        const answer = await (await rawClient(p.base, chunkedPost(teLines, body))).closed;
        assert.match(answer, /^HTTP\/1\.1 200 /);
        assert.equal(seen.length, 1);
        assert.deepEqual(framing(seen[0]!.lines), ['transfer-encoding: chunked']);
        assert.equal(seen[0]!.body, body);
        assert.deepEqual(codes, []);
        await assertIdle(p.mw);
      });
    }
  });
}

describe('transfer-codings the balancer cannot re-frame', () => {
  for (const te of ['gzip, chunked', 'identity, deflate, chunked']) {
    test(`"${te}": 501 ERR_TRANSFER_CODING, nothing forwarded`, async (t) => {
      const { w, seen } = await recordingWorker(t);
      const codes: string[] = [];
      const p = await proxy(t, w.url, codes);
      const answer = await (await rawClient(p.base, chunkedPost([te], 'hello'))).closed;
      assert.match(answer, /^HTTP\/1\.1 501 /);
      assert.ok(answer.endsWith('\r\n\r\nERR_TRANSFER_CODING'), answer);
      assert.deepEqual(codes, ['ERR_TRANSFER_CODING']);
      assert.deepEqual(seen, []);
      await assertIdle(p.mw);
    });
  }
});

test('a Content-Length body keeps its Content-Length and gets no Transfer-Encoding', async (t) => {
  const { w, seen } = await recordingWorker(t);
  const p = await proxy(t, w.url, []);
  const answer = await (
    await rawClient(p.base, 'POST /app/up HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello')
  ).closed;
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.deepEqual(
    seen.map((r) => [framing(r.lines), r.body]),
    [[['content-length: 5'], 'hello']],
  );
});
