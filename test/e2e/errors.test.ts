import { after, afterEach, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type http from 'node:http';
import type { BalancerConfig, BalancerOptions, ErrorInfo, MemberOptions } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { ProcessGuard } from './helpers/guard.js';
import { assertIdle, eventually, startProxy, totalSockets, until, type Proxy } from './helpers/proxy.js';
import { pattern, send } from './helpers/client.js';
import { blackhole, httpBackend, onRequestHead, rawBackend, type Backend } from './helpers/backends.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

async function setup(
  t: TestContext,
  members: MemberOptions[],
  opts: Partial<BalancerOptions> = {},
  global: Partial<BalancerConfig> = {},
): Promise<{ p: Proxy; errors: ErrorInfo[] }> {
  const errors: ErrorInfo[] = [];
  const p = await startProxy({
    balancers: [{ name: 'app', mount: '/app', members, ...opts }],
    clock: new FakeClock(),
    onError: (info, _req, res) => {
      errors.push(info);
      res.writeHead(info.status, { 'content-type': 'text/plain' });
      res.end(info.error.code);
    },
    ...global,
  });
  t.after(() => p.close());
  return { p, errors };
}

async function upstreams(t: TestContext, ...names: string[]): Promise<Upstream[]> {
  const ups = await startUpstreams(...names);
  t.after(() => stopAll(ups));
  return ups;
}

async function raw(t: TestContext, onSocket: (s: net.Socket) => void): Promise<Backend> {
  const b = await rawBackend(onSocket);
  t.after(() => b.close());
  return b;
}

function inError(p: Proxy): boolean[] {
  return p.mw.balancers[0]!.workers.map((w) => w.inError);
}

describe('timeouts', () => {
  test('no response within the member timeout -> 504, worker not marked, not replayed', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    a!.mode = 'hang';
    const { p, errors } = await setup(t, [{ url: a!.url, timeout: 200 }, { url: b!.url }]);
    const started = Date.now();
    const r = await send(p.base, '/app/slow');
    assert.equal(r.status, 504);
    assert.equal(errors[0]?.error.code, 'ERR_WORKER_TIMEOUT');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 200, `not before the 200 ms timeout (${elapsed} ms)`);
    assert.ok(elapsed < 2000, 'answered around the 200 ms timeout');
    assert.equal(a!.hits.length, 1);
    assert.equal(b!.hits.length, 0);
    assert.deepEqual(inError(p), [false, false]);
    await assertIdle(p.mw);
  });

  test('failontimeout marks the worker that timed out', async (t) => {
    const [a, b] = await upstreams(t, 'a', 'b');
    a!.mode = 'hang';
    const { p } = await setup(t, [{ url: a!.url, timeout: '200ms' }, { url: b!.url }], { failontimeout: true });
    assert.equal((await send(p.base, '/app/slow')).status, 504);
    assert.deepEqual(inError(p), [true, false]);
    assert.equal(b!.hits.length, 0);
    const next = await send(p.base, '/app/next');
    assert.equal(next.headers['x-upstream'], 'b');
    await assertIdle(p.mw);
  });

  test('a timeout in the middle of the body truncates the response; failontimeout marks the worker', async (t) => {
    const b = await raw(t, (s) => {
      onRequestHead(s, () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n0123456789');
        // …and then nothing: the socket stays open and idle.
      });
    });
    const { p } = await setup(t, [{ url: b.url, timeout: 200 }], { failontimeout: true });
    const r = await send(p.base, '/app/stall');
    assert.equal(r.status, 200);
    assert.ok(r.error, 'the client sees the response cut');
    assert.equal(r.complete, false);
    assert.equal(r.body.toString(), '0123456789');
    assert.deepEqual(inError(p), [true]);
    await assertIdle(p.mw);
    assert.ok(await eventually(() => b.sockets.size === 0), 'the stalled worker connection was closed');
  });

  test('the timeout is for the next byte: a body in pieces, each gap under it, arrives whole after several timeouts', async (t) => {
    const pieces = 8;
    const b = await raw(t, (s) => {
      onRequestHead(s, () => {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${pieces}\r\n\r\n`);
        let sent = 0;
        const timer = setInterval(() => {
          s.write(String(sent % 10));
          if (++sent === pieces) clearInterval(timer);
        }, 90);
        s.on('close', () => clearInterval(timer));
      });
    });
    const { p, errors } = await setup(t, [{ url: b.url, timeout: 250 }], { failontimeout: true });
    const started = Date.now();
    const r = await send(p.base, '/app/pieces');
    assert.ok(Date.now() - started > 500, 'the whole response took longer than two timeouts');
    assert.equal(r.status, 200);
    assert.equal(r.complete, true);
    assert.equal(r.body.toString(), '01234567');
    assert.deepEqual(errors, []);
    assert.deepEqual(inError(p), [false]);
    await assertIdle(p.mw);
  });

  test('a streamed upload that keeps flowing for longer than the timeout is not timed out', async (t) => {
    let received = 0;
    const b = await httpBackend((req, res) => {
      req.on('data', (d: Buffer) => (received += d.length));
      req.on('end', () => res.end(`got ${received}`));
    });
    t.after(() => b.close());
    const { p, errors } = await setup(t, [{ url: b.url, timeout: 250 }], {}, { replayBufferBytes: 1024 });
    const piece = pattern(4096, 3);
    const pieces = 8;
    const started = Date.now();
    const r = await send(p.base, '/app/upload', {
      method: 'POST',
      headers: { 'content-length': piece.length * pieces },
      keepOpen: true,
      onRequest: (req) => {
        let sent = 0;
        const timer = setInterval(() => {
          sent++;
          if (sent === pieces) {
            clearInterval(timer);
            req.end(piece);
          } else req.write(piece);
        }, 90);
        req.on('close', () => clearInterval(timer));
      },
    });
    assert.ok(Date.now() - started > 500, 'the upload took longer than two timeouts');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), `got ${piece.length * pieces}`);
    assert.deepEqual(errors, []);
    await assertIdle(p.mw);
  });

  test('connect timeout (member connectiontimeout) fails over and marks the member', async (t) => {
    const hole = await blackhole();
    if (!hole) {
      t.skip(
        'no reliable never-connecting loopback port here (needs Linux and python3 to fill a backlog-0 accept queue)',
      );
      return;
    }
    t.after(() => hole.close());
    const [b] = await upstreams(t, 'b');
    const member = { url: `http://127.0.0.1:${hole.port}`, connectiontimeout: 200 };
    const { p } = await setup(t, [member, { url: b!.url }]);
    const started = Date.now();
    const r = await send(p.base, '/app/ct');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'b');
    assert.deepEqual(inError(p), [true, false]);
    assert.ok(Date.now() - started < 2000, 'the connect timer fired, not the 300 s response timeout');

    const alone = await setup(t, [member]);
    const r2 = await send(alone.p.base, '/app/ct');
    assert.equal(r2.status, 503);
    assert.equal(alone.errors[0]?.error.code, 'ERR_WORKER_CONNECT');
    assert.deepEqual(inError(alone.p), [true]);
    await assertIdle(p.mw);
    await assertIdle(alone.p.mw);
    assert.ok(await until(() => alone.p.mw.socketCounts().get(member.url) === 0), 'the pending connect was destroyed');
  });
});

describe('broken backends', () => {
  test('garbage instead of HTTP -> 502, worker not marked, not replayed', async (t) => {
    const g = await raw(t, (s) => {
      onRequestHead(s, () => s.end('hello\r\n\r\n'));
    });
    const [b] = await upstreams(t, 'b');
    const { p, errors } = await setup(t, [{ url: g.url }, { url: b!.url }]);
    for (let i = 0; i < 3; i++) {
      // byrequests alternates; with b first the request simply succeeds.
      const r = await send(p.base, '/app/g');
      if (r.headers['x-upstream'] === 'b') continue;
      assert.equal(r.status, 502);
    }
    assert.ok(errors.length >= 1);
    assert.ok(errors.every((e) => e.error.code === 'ERR_WORKER_RESPONSE'));
    assert.equal(b!.hits.length, 3 - errors.length, 'no failed request went on to b');
    assert.deepEqual(inError(p), [false, false]);
    await assertIdle(p.mw);
    assert.equal(p.mw.socketCounts().get(g.url), 0);
  });

  /** Cuts the response to GET /die after 10 of its 1000 bytes; answers anything else in full. */
  async function dying(t: TestContext): Promise<Backend> {
    return raw(t, (s) => {
      onRequestHead(s, (head) => {
        if (head.startsWith('GET /die')) {
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/plain\r\n\r\n0123456789');
          setImmediate(() => s.destroy());
        } else {
          s.end('HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nSECOND-BODY');
        }
      });
    });
  }

  /** Two pipelined requests on one raw client connection; resolves with every byte received. */
  function pipelined(p: Proxy, first: string, second: string, onOpen?: (c: net.Socket) => void): Promise<string> {
    return new Promise<string>((resolve) => {
      const u = new URL(p.base);
      const c = net.connect({ host: u.hostname, port: Number(u.port) });
      let got = '';
      c.on('data', (d: Buffer) => (got += d.toString('latin1')));
      c.on('close', () => resolve(got));
      c.on('error', () => undefined);
      c.write(`GET ${first} HTTP/1.1\r\nHost: x\r\n\r\nGET ${second} HTTP/1.1\r\nHost: x\r\n\r\n`);
      onOpen?.(c);
    });
  }

  test('the backend dies mid-body: the client gets a truncated response', async (t) => {
    const b = await dying(t);
    const { p } = await setup(t, [{ url: b.url }]);
    const r = await send(p.base, '/app/die');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '1000');
    assert.equal(r.complete, false);
    assert.ok(r.error);
    assert.equal(r.body.toString(), '0123456789');
    assert.deepEqual(inError(p), [false]);
    await assertIdle(p.mw);
    assert.ok(await until(() => totalSockets(p.mw) === 0));
  });

  test('a cut response ends the client connection: a pipelined next response is never spliced onto it', async (t) => {
    const b = await dying(t);
    const { p } = await setup(t, [{ url: b.url }]);
    // The second response would otherwise be appended to the first one's (short) body.
    const bytes = await pipelined(p, '/app/die', '/app/ok');
    assert.equal(bytes.match(/HTTP\/1\.1 /g)?.length, 1, `one status line only: ${JSON.stringify(bytes)}`);
    assert.ok(!bytes.includes('SECOND-BODY'), 'nothing of the second response follows the cut one');
    assert.ok(bytes.endsWith('\r\n\r\n0123456789'), JSON.stringify(bytes));
    assert.deepEqual(inError(p), [false]);
    // busy for the queued second request: see the next test.
  });

  // A queued pipelined ServerResponse gets neither 'close' nor 'finish' when the client socket
  // closes; the exchange watches the socket too.
  test('a pipelined request queued behind a cut response is released (busy back to 0)', async (t) => {
    const b = await dying(t);
    const { p } = await setup(t, [{ url: b.url }]);
    await pipelined(p, '/app/die', '/app/ok');
    // The second response already ended upstream; nothing (no timer) will ever settle it.
    await assertIdle(p.mw, 2000);
  });

  test('pipelined requests are all released when the client disconnects', async (t) => {
    const heads: string[] = [];
    const h = await raw(t, (s) => onRequestHead(s, (head) => heads.push(head)));
    const { p } = await setup(t, [{ url: h.url }]);
    let client: net.Socket | undefined;
    const done = pipelined(p, '/app/one', '/app/two', (c) => (client = c));
    assert.ok(await eventually(() => heads.length === 2), 'both pipelined requests reached the backend');
    client!.destroy();
    await done;
    // Only the member timeout (default 300 s) would end the second upstream request.
    assert.ok(await eventually(() => h.sockets.size === 0, 500), `upstream sockets left open: ${h.sockets.size}`);
    await assertIdle(p.mw);
  });

  test('repeated 502s, 504s and refusals do not leave pooled sockets', async (t) => {
    const g = await raw(t, (s) => onRequestHead(s, () => s.end('hello\r\n\r\n')));
    const [h] = await upstreams(t, 'h');
    h!.mode = 'hang';
    const { p } = await setup(t, [{ url: g.url }]);
    const slow = await setup(t, [{ url: h!.url, timeout: 50 }]);
    const counts: number[] = [];
    for (let i = 0; i < 6; i++) {
      assert.equal((await send(p.base, '/app/x')).status, 502);
      assert.equal((await send(slow.p.base, '/app/x')).status, 504);
      await assertIdle(p.mw);
      await assertIdle(slow.p.mw);
      // A destroyed socket leaves the agent on its 'close', a tick or two after the answer.
      await until(() => totalSockets(p.mw) + totalSockets(slow.p.mw) === 0, 200);
      counts.push(totalSockets(p.mw) + totalSockets(slow.p.mw));
    }
    assert.deepEqual(
      counts,
      counts.map(() => 0),
      counts.join(','),
    );
  });
});

describe('onError', () => {
  test('renders its own page with the status, once per failed request', async (t) => {
    const [a] = await upstreams(t, 'a');
    await a!.stop();
    const seen: ErrorInfo[] = [];
    const p = await startProxy({
      balancers: [{ name: 'app', mount: '/app', members: [{ url: a!.url }] }],
      clock: new FakeClock(),
      onError: (info, req, res) => {
        seen.push(info);
        res.writeHead(info.status, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          `<h1>${info.status}</h1><p>${info.error.code} for ${req.url ?? ''} via ${info.context?.balancer ?? ''}</p>`,
        );
      },
    });
    t.after(() => p.close());
    const r = await send(p.base, '/app/page');
    assert.equal(r.status, 503);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.body.toString(), '<h1>503</h1><p>ERR_WORKER_CONNECT for /app/page via balancer://app</p>');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.error.status, 503);
    assert.equal(seen[0]!.context?.worker, a!.url);
    await assertIdle(p.mw);
  });

  test('an onError that throws before writing falls back to the plain answer', async (t) => {
    const [a] = await upstreams(t, 'a');
    await a!.stop();
    const p = await startProxy({
      balancers: [{ name: 'app', mount: '/app', members: [{ url: a!.url }] }],
      clock: new FakeClock(),
      onError: () => {
        throw new Error('template missing');
      },
    });
    t.after(() => p.close());
    const r = await send(p.base, '/app/x');
    assert.equal(r.status, 503);
    assert.match(r.body.toString(), /^503 Service Unavailable/);
    await assertIdle(p.mw);
  });
});

describe('the client goes away', () => {
  interface Watch {
    backend: Backend<http.Server>;
    requests: http.IncomingMessage[];
    bodyBytes: () => number;
  }

  /** A backend that never answers (or answers with `respond`), recording requests and body bytes. */
  async function watched(t: TestContext, respond?: (res: http.ServerResponse) => void): Promise<Watch> {
    const requests: http.IncomingMessage[] = [];
    let bytes = 0;
    const backend = await httpBackend((req, res) => {
      requests.push(req);
      req.on('data', (c: Buffer) => (bytes += c.length));
      respond?.(res);
    });
    t.after(() => backend.close());
    return { backend, requests, bodyBytes: () => bytes };
  }

  test('while waiting for the response: the upstream request is destroyed, busy returns to 0', async (t) => {
    const w = await watched(t);
    const { p } = await setup(t, [{ url: w.backend.url }]);
    let abort: (() => void) | undefined;
    const pending = send(p.base, '/app/hang', { onRequest: (req) => (abort = () => req.destroy()) });
    assert.ok(await eventually(() => w.requests.length === 1), 'the backend got the request');
    assert.equal(p.mw.balancers[0]!.workers[0]!.busy, 1);
    abort!();
    assert.equal((await pending).status, 0);
    assert.ok(await eventually(() => w.backend.sockets.size === 0), 'the backend saw its socket close');
    await assertIdle(p.mw);
    assert.equal(totalSockets(p.mw), 0);
  });

  test('in the middle of a streamed upload: the upstream request is destroyed', async (t) => {
    const w = await watched(t);
    const { p } = await setup(t, [{ url: w.backend.url }], {}, { replayBufferBytes: 1024 });
    let req: http.ClientRequest | undefined;
    const pending = send(p.base, '/app/upload', {
      method: 'POST',
      headers: { 'content-length': 1024 * 1024 },
      keepOpen: true,
      onRequest: (r) => {
        req = r;
        r.write(pattern(64 * 1024, 2));
      },
    });
    assert.ok(await eventually(() => w.bodyBytes() > 1024), 'body bytes reached the backend');
    req!.destroy();
    await pending;
    assert.ok(await eventually(() => w.backend.sockets.size === 0), 'the backend saw its socket close');
    await assertIdle(p.mw);
  });

  test('in the middle of the response: the upstream response is abandoned, busy returns to 0', async (t) => {
    const w = await watched(t, (res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(pattern(16 * 1024, 4));
      // …the rest never comes.
    });
    const { p } = await setup(t, [{ url: w.backend.url }]);
    let req: http.ClientRequest | undefined;
    let gotData = false;
    const pending = send(p.base, '/app/stream', {
      onRequest: (r) => {
        req = r;
        r.on('response', (res: http.IncomingMessage) => res.once('data', () => (gotData = true)));
      },
    });
    assert.ok(await eventually(() => gotData), 'the client received the first bytes');
    req!.destroy();
    await pending;
    assert.ok(await eventually(() => w.backend.sockets.size === 0), 'the backend saw its socket close');
    await assertIdle(p.mw);
    assert.ok(await until(() => totalSockets(p.mw) === 0));
  });
});
