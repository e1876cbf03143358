/**
 * A body parser mounted before the balancer: the parsed body is forwarded re-serialised (as
 * http-proxy-middleware's fixRequestBody does) with its own Content-Length, and said once; where it
 * cannot be rebuilt the answer is 500 ERR_BODY_CONSUMED naming the cause and the fix, logged once.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import express from 'express';
import express4 from 'express4';
import { balancer } from '../../lib/index.js';
import type { BalancerConfig } from '../../lib/index.js';
import { FakeClock } from '../support/clock.js';
import { ProcessGuard } from '../e2e/helpers/guard.js';
import { assertIdle } from '../e2e/helpers/proxy.js';
import { send } from '../e2e/helpers/client.js';
import { RecordingLogger, serve, upstreams } from './helpers.js';

const guard = new ProcessGuard();
afterEach(() => guard.assertClean());
after(() => guard.dispose());

const MOUNT_FIRST = 'mount the balancer before body parsers (app.use(balancer(config)) before express.json())';

function config(url: string, logger: RecordingLogger): BalancerConfig {
  return { balancers: [{ name: 'app', mount: '/app', members: [{ url }] }], clock: new FakeClock(), logger };
}

for (const [version, make] of [
  ['5', express],
  ['4', express4],
] as const) {
  describe(`Express ${version}`, () => {
    test('express.json, express.urlencoded, express.raw and express.text before the balancer: the worker gets the body', async (t) => {
      const [a] = await upstreams(t, 'a');
      const logger = new RecordingLogger();
      const mw = balancer(config(a!.url, logger));
      const app = make();
      app.use('/app/json', make.json({ type: ['application/json', 'application/*+json'] }));
      app.use('/app/form', make.urlencoded({ extended: false }));
      app.use('/app/raw', make.raw({ type: 'application/octet-stream' }));
      app.use('/app/text', make.text({ type: 'text/*' }));
      app.use(mw);
      const p = await serve(t, app, mw);

      const cases = [
        {
          path: '/app/json',
          type: 'application/json',
          body: '{ "a": 1,   "list": [1, 2], "é": "ü" }',
          sent: '{"a":1,"list":[1,2],"é":"ü"}',
        },
        {
          path: '/app/json',
          type: 'application/problem+json; charset=utf-8',
          body: '{"x" : null}',
          sent: '{"x":null}',
        },
        {
          path: '/app/form',
          type: 'application/x-www-form-urlencoded',
          body: 'a=1&b=x+y&b=%C3%A9&c=',
          sent: 'a=1&b=x%20y&b=%C3%A9&c=',
        },
        {
          path: '/app/raw',
          type: 'application/octet-stream',
          body: Buffer.from([0, 255, 1, 254, 10, 13]),
          sent: Buffer.from([0, 255, 1, 254, 10, 13]),
        },
        { path: '/app/text', type: 'text/plain; charset=utf-8', body: 'héllo\r\nwörld', sent: 'héllo\r\nwörld' },
        {
          path: '/app/text',
          type: 'text/plain; charset=iso-8859-1',
          body: Buffer.from('café', 'latin1'),
          sent: Buffer.from('café', 'latin1'),
        },
      ];
      for (const c of cases) {
        const r = await send(p.base, c.path, { method: 'POST', body: c.body, headers: { 'content-type': c.type } });
        assert.equal(r.status, 200, `${c.path} ${c.type}: ${r.body.toString()}`);
        const hit = a!.hits.at(-1)!;
        const expected = Buffer.from(c.sent);
        assert.deepEqual(hit.body, expected, `${c.path} ${c.type}`);
        assert.equal(hit.headers['content-length'], String(expected.length), `${c.path} ${c.type}`);
        assert.equal(hit.headers['transfer-encoding'], undefined);
        assert.equal(hit.headers['content-type'], c.type);
      }
      assert.deepEqual(logger.lines, [
        `warn express-proxy-balancer: a body parser ran before the balancer: the request body is forwarded re-serialised from req.body (JSON), which costs a parse and may change its bytes; ${MOUNT_FIRST}`,
      ]);
      await assertIdle(mw);
    });

    test('a chunked or gzip-encoded body: forwarded with a Content-Length, without Transfer-Encoding or Content-Encoding', async (t) => {
      const [a] = await upstreams(t, 'a');
      const logger = new RecordingLogger();
      const mw = balancer(config(a!.url, logger));
      const app = make();
      app.use(make.json());
      app.use(mw);
      const p = await serve(t, app, mw);
      const json = JSON.stringify({ big: 'x'.repeat(3000) });

      const chunked = await send(p.base, '/app/c', {
        method: 'PUT',
        body: json,
        chunked: true,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(chunked.status, 200);
      assert.equal(a!.hits.at(-1)!.body.toString(), json);
      assert.equal(a!.hits.at(-1)!.headers['content-length'], String(json.length));
      assert.equal(a!.hits.at(-1)!.headers['transfer-encoding'], undefined);

      const gz = await send(p.base, '/app/z', {
        method: 'POST',
        body: gzipSync(json),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      assert.equal(gz.status, 200);
      assert.equal(a!.hits.at(-1)!.body.toString(), json, 'the inflated, parsed body, not gzip bytes');
      assert.equal(a!.hits.at(-1)!.headers['content-length'], String(json.length));
      assert.equal(a!.hits.at(-1)!.headers['content-encoding'], undefined);
      assert.equal(logger.lines.length, 1, 'said once');
      await assertIdle(mw);
    });

    test('a body that cannot be rebuilt: 500 ERR_BODY_CONSUMED naming the cause and the fix, logged once per cause', async (t) => {
      const [a] = await upstreams(t, 'a');
      const logger = new RecordingLogger();
      const seen: string[] = [];
      const mw = balancer({
        ...config(a!.url, logger),
        onError: ({ error }, _req, res) => {
          seen.push(`${error.code} ${error.message}`);
          res.writeHead(500).end();
        },
      });
      const app = make();
      app.use('/app/nested', make.urlencoded({ extended: true }));
      // Reads the stream and keeps nothing, as a hand-written logger of bodies might.
      app.use('/app/drained', (req: http.IncomingMessage, _res: http.ServerResponse, next: () => void) => {
        req.resume();
        req.on('end', () => next());
      });
      app.use(mw);
      const p = await serve(t, app, mw);
      const form = { 'content-type': 'application/x-www-form-urlencoded' };

      for (let i = 0; i < 2; i++) {
        const nested = await send(p.base, '/app/nested', { method: 'POST', body: 'a[b]=1&c=2', headers: form });
        assert.equal(nested.status, 500);
        const drained = await send(p.base, '/app/drained', { method: 'POST', body: 'a=1', headers: form });
        assert.equal(drained.status, 500);
      }
      assert.equal(a!.hits.length, 0);
      const nestedMessage = `the request body was read before the balancer and cannot be forwarded (req.body has nested values, which a form body cannot carry): ${MOUNT_FIRST}, or keep the raw bytes in req.rawBody`;
      const drainedMessage = `the request body was read before the balancer and cannot be forwarded (req.body is not set): ${MOUNT_FIRST}, or keep the raw bytes in req.rawBody`;
      assert.deepEqual(logger.lines, [
        `error express-proxy-balancer: ${nestedMessage}`,
        `error express-proxy-balancer: ${drainedMessage}`,
      ]);
      assert.deepEqual(seen, [
        `ERR_BODY_CONSUMED ${nestedMessage}`,
        `ERR_BODY_CONSUMED ${drainedMessage}`,
        `ERR_BODY_CONSUMED ${nestedMessage}`,
        `ERR_BODY_CONSUMED ${drainedMessage}`,
      ]);
      await assertIdle(mw);
    });
  });
}
