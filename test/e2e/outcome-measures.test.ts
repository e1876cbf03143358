// Every outcome reports how far the attempt got (phase), the bytes exchanged and when each point
// was reached (timings, on the injected clock), under both engines. The worker moves the clock
// forward as it receives the request, so the timings are exact without reading wall-clock time.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { balancer, type BalancerMiddleware, type Outcome } from '../../lib/index.js';
import type { EngineName } from '../../lib/config/engine.js';
import { FakeClock } from '../support/clock.js';
import { closedPort } from '../support/upstreams.js';
import { request } from '../support/http.js';
import { assertIdle, listenProxy } from './helpers/proxy.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function worker(t: TestContext, handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => server.close(() => r())).then(() => server.closeAllConnections()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A proxy on `engine` with one worker at `url`, and the outcomes of its attempts. */
async function proxy(
  t: TestContext,
  engine: EngineName,
  url: string,
  clock: FakeClock,
): Promise<{ base: string; mw: BalancerMiddleware; outcomes: Outcome[] }> {
  const mw = balancer({
    engine,
    clock,
    logger: false,
    balancers: [{ name: 'm', mount: '/app', members: [{ url, timeout: '150ms', retry: 0 }] }],
  });
  const outcomes: Outcome[] = [];
  mw.balancers[0]!.on('attempt', (e: { outcome: Outcome }) => outcomes.push(e.outcome));
  const p = await listenProxy(
    http.createServer((req, res) => mw(req, res)),
    mw,
  );
  t.after(() => p.close());
  return { base: p.base, mw, outcomes };
}

/** Only what differs between the engines' request heads is left out: the bytes sent are counted, not equal. */
function measures(o: Outcome): unknown {
  return { kind: o.kind, phase: o.phase, timings: o.timings, read: o.read, sent: o.transferred > 0 };
}

for (const engine of ['http-proxy', 'undici'] as const) {
  describe(`outcome phase, bytes and timings (${engine})`, () => {
    test('completed: connect, first byte and total on the clock; status line and body read', async (t) => {
      const clock = new FakeClock();
      const url = await worker(t, (_req, res) => {
        clock.advance(30);
        res.end('hello');
      });
      const p = await proxy(t, engine, url, clock);
      const r = await request(p.base, '/app/x');
      assert.equal(r.body, 'hello');
      await assertIdle(p.mw);
      // "HTTP/1.1 200 OK" counts 10 + 3 + 2 bytes, then the 5 of the body.
      assert.deepEqual(p.outcomes.map(measures), [
        {
          kind: 'completed',
          phase: 'completed',
          timings: { connect: 0, firstByte: 30, total: 30 },
          read: 20,
          sent: true,
        },
      ]);
    });

    test('refused: not connected, no connect or first byte, nothing sent', async (t) => {
      const clock = new FakeClock();
      const p = await proxy(t, engine, `http://127.0.0.1:${await closedPort()}`, clock);
      assert.equal((await request(p.base, '/app/x')).status, 503);
      await assertIdle(p.mw);
      assert.deepEqual(p.outcomes, [
        {
          kind: 'connect-failed',
          error: p.outcomes[0]!.kind === 'connect-failed' ? p.outcomes[0]!.error : undefined,
          phase: 'not-connected',
          timings: { connect: undefined, firstByte: undefined, total: 0 },
          transferred: 0,
          read: 0,
        },
      ]);
    });

    test('no answer in time: sent, connected, no first byte', async (t) => {
      const clock = new FakeClock();
      const url = await worker(t, () => {
        clock.advance(40);
      });
      const p = await proxy(t, engine, url, clock);
      assert.equal((await request(p.base, '/app/x')).status, 504);
      await assertIdle(p.mw);
      assert.deepEqual(p.outcomes.map(measures), [
        {
          kind: 'timeout',
          phase: 'sent',
          timings: { connect: 0, firstByte: undefined, total: 40 },
          read: 0,
          sent: true,
        },
      ]);
    });

    test('cut mid-body: response started, the bytes read so far', async (t) => {
      const clock = new FakeClock();
      const url = await worker(t, (_req, res) => {
        clock.advance(10);
        res.writeHead(200, { 'content-length': '10' });
        res.write('half', () => res.socket?.destroy());
      });
      const p = await proxy(t, engine, url, clock);
      await request(p.base, '/app/x').catch(() => undefined);
      await assertIdle(p.mw);
      assert.deepEqual(p.outcomes.map(measures), [
        {
          kind: 'truncated',
          phase: 'response-started',
          timings: { connect: 0, firstByte: 10, total: 10 },
          read: 19,
          sent: true,
        },
      ]);
    });
  });
}
