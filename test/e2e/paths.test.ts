import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import express from 'express';
import { balancer } from '../../lib/index.js';
import { Upstream } from '../support/upstreams.js';
import { listen } from '../support/http.js';

/** Sends a raw request line (Node's client would normalise some of these paths). */
function rawGet(base: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(Number(new URL(base).port), '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('close', () => resolve(out));
    s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  });
}

test('paths: repeated slashes are merged, backslashes and encoded slashes never reach a worker', async () => {
  const up = await new Upstream('a').start();
  const lb = balancer({ balancers: [{ name: 'p', mount: '/app', members: [{ url: `${up.url}/base` }] }] });
  const app = express();
  app.use(lb);
  const srv = await listen(app);
  try {
    assert.match(await rawGet(srv.base, '/app//a///b?q=//x'), /^HTTP\/1\.1 200 /);
    assert.equal(up.hits.at(-1)?.url, '/base/a/b?q=//x');
    for (const p of ['/app/..\\secret', '/app/a%2Fb', '/app/a%5Cb']) {
      assert.match(await rawGet(srv.base, p), /^HTTP\/1\.1 404 /, p);
    }
    // A ".." that climbs out of the mount is refused (ERR_BAD_PATH), not passed on.
    assert.match(await rawGet(srv.base, '/app/..;/admin'), /^HTTP\/1\.1 400 /);
    assert.equal(up.hits.length, 1);
  } finally {
    await lb.close(100);
    await srv.close();
    await up.stop();
  }
});
