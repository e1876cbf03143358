/**
 * What each hcmethod puts on the wire, seen by a raw TCP server: Apache's HTTP/1.0 request lines
 * with only a Host header, "OPTIONS *", the HTTP/1.1 variants, a bare connect for TCP, and hcuri
 * joined to the member's base path with a single slash.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { rig, until } from './helpers.js';

interface Seen {
  bytes: string;
}

let server: net.Server;
let port = 0;
const seen: Seen[] = [];
let answer = 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok';

before(async () => {
  server = net.createServer((s) => {
    const entry: Seen = { bytes: '' };
    seen.push(entry);
    s.on('data', (d: Buffer) => {
      entry.bytes += d.toString('latin1');
      if (entry.bytes.includes('\r\n\r\n')) s.end(answer);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

async function requestOf(member: Record<string, unknown>): Promise<{ text: string; ok: boolean | undefined }> {
  const r = rig([{ url: `http://127.0.0.1:${port}`, ...member }]);
  try {
    const n = seen.length;
    const ok = await r.check(0);
    await until(() => seen.length > n);
    return { text: seen[n]!.bytes, ok };
  } finally {
    r.stop();
  }
}

describe('check requests on the wire', () => {
  const host = (): string => `Host: 127.0.0.1:${port}`;

  it('GET: "GET <hcuri> HTTP/1.0" with only Host', async () => {
    const { text, ok } = await requestOf({ hcmethod: 'GET', hcuri: '/health' });
    assert.equal(text, `GET /health HTTP/1.0\r\n${host()}\r\n\r\n`);
    assert.equal(ok, true);
  });

  it('HEAD and OPTIONS ("OPTIONS *"), method names case-insensitive', async () => {
    assert.equal((await requestOf({ hcmethod: 'head', hcuri: '/h' })).text, `HEAD /h HTTP/1.0\r\n${host()}\r\n\r\n`);
    assert.equal((await requestOf({ hcmethod: 'OPTIONS' })).text, `OPTIONS * HTTP/1.0\r\n${host()}\r\n\r\n`);
  });

  it('hcuri joins the base path with one slash (Apache would send "//")', async () => {
    const r = await requestOf({ url: `http://127.0.0.1:${port}/app/`, hcmethod: 'GET', hcuri: '/status' });
    assert.match(r.text, /^GET \/app\/status HTTP\/1\.0\r\n/);
    const none = await requestOf({ url: `http://127.0.0.1:${port}/app`, hcmethod: 'GET' });
    assert.match(none.text, /^GET \/app\/ HTTP\/1\.0\r\n/);
  });

  it('GET11 / HEAD11 / OPTIONS11 send HTTP/1.1 on a fresh connection', async () => {
    answer = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok';
    try {
      const get = await requestOf({ hcmethod: 'GET11', hcuri: '/health' });
      assert.match(get.text, /^GET \/health HTTP\/1\.1\r\n/);
      assert.match(get.text, new RegExp(`\\r\\n${host()}\\r\\n`, 'i'));
      assert.equal(get.ok, true);
      assert.match((await requestOf({ hcmethod: 'HEAD11', hcuri: '/x' })).text, /^HEAD \/x HTTP\/1\.1\r\n/);
      assert.match((await requestOf({ hcmethod: 'OPTIONS11' })).text, /^OPTIONS \* HTTP\/1\.1\r\n/);
    } finally {
      answer = 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok';
    }
  });

  it('TCP: connects and closes without sending a byte', async () => {
    const r = rig([{ url: `http://127.0.0.1:${port}`, hcmethod: 'TCP' }]);
    try {
      const n = seen.length;
      assert.equal(await r.check(0), true);
      await until(() => seen.length > n);
      await new Promise((res) => setTimeout(res, 30));
      assert.equal(seen[n]!.bytes, '');
    } finally {
      r.stop();
    }
  });

  it('an answer that is not HTTP fails', async () => {
    answer = 'SSH-2.0-OpenSSH\r\n\r\n';
    try {
      const r = rig([{ url: `http://127.0.0.1:${port}`, hcmethod: 'GET' }]);
      try {
        assert.equal(await r.check(0), false);
        assert.equal(r.health.checker(r.w(0))!.lastResult!.reason, 'answer is not HTTP');
      } finally {
        r.stop();
      }
    } finally {
      answer = 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok';
    }
  });
});
