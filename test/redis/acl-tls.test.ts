// RedisStore against a real redis-server with ACL users and TLS: the documented ACL rule is enough
// for everything the store does, over a TLS port, and a refusal says what Redis answered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { RedisStore, RedisStoreError } from '../../lib/index.js';
import type { PersistedBalancer, SharedWorkerState } from '../../lib/index.js';
import { freePort, redisSkip } from './redis-server.js';
import { until } from './instances.js';
import { RedisProc, tempDir } from './ha.js';

const skip = redisSkip();
// The rule docs/scale-out.md gives for a fleet with prefix "shop-prod:".
const SHOP_RULE = 'on >s3cret ~shop-prod:* &shop-prod:* +@hash +@pubsub +@scripting +@transaction +@connection +info';

function state(version: number, workers: PersistedBalancer['workers']): PersistedBalancer {
  return { version, lbmethod: 'byrequests', timeoutMs: 0, nofailover: false, stickysession: null, workers, added: [] };
}

/** A CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string): string => path.join(dir, n);
  const run = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=epb-test-ca',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
  );
  const ext = f('ext.cnf');
  spawnSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > '${ext}'`]);
  run(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    f('server.crt'),
  );
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

describe('RedisStore with ACL users and TLS on a real redis-server', { skip }, () => {
  const tmp = tempDir('acl-tls');
  let server: RedisProc | undefined;
  let tlsPort = 0;
  let ca = '';
  let admin: Redis | undefined;
  const stores: RedisStore[] = [];
  const tlsStore = (
    o: Partial<ConstructorParameters<typeof RedisStore>[0]> & { username?: string; password?: string } = {},
  ) => {
    const { username = 'shop', password = 's3cret', ...rest } = o;
    const s = new RedisStore({
      redis: { host: '127.0.0.1', port: tlsPort, username, password, tls: { ca } },
      prefix: 'shop-prod:',
      warn: () => undefined,
      ...rest,
    });
    stores.push(s);
    return s;
  };

  before(async () => {
    const certs = makeCerts(tmp.dir);
    ca = readFileSync(certs.ca, 'utf8');
    tlsPort = await freePort();
    server = await new RedisProc(tmp.dir, await freePort(), [
      `tls-port ${tlsPort}`,
      `tls-cert-file ${certs.cert}`,
      `tls-key-file ${certs.key}`,
      `tls-ca-cert-file ${certs.ca}`,
      'tls-auth-clients no',
      'user default off',
      'user admin on >adminpw ~* &* +@all',
      `user shop ${SHOP_RULE}`,
      'user nolua on >pw ~shop-prod:* &shop-prod:* +@hash +@pubsub +@transaction +@connection +info',
    ]).start();
    admin = new Redis({ port: server.port, username: 'admin', password: 'adminpw', lazyConnect: true });
    await admin.connect();
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    admin?.disconnect();
    await server?.kill();
    tmp.remove();
  });

  test('over TLS as the documented ACL user: edits, health states and counters are shared', async () => {
    const a = tlsStore({ instanceId: 'a' });
    const b = tlsStore({ instanceId: 'b' });
    assert.equal(a.target, `rediss://127.0.0.1:${tlsPort}`);
    await Promise.all([a.load('web'), b.load('web')]);
    assert.deepEqual([a.connected, b.connected], [true, true]);
    const heard: unknown[] = [];
    b.watch('web', (s) => heard.push(s.workers));
    b.watchWorkerStates('web', (w, s) => heard.push([w, s]));
    await a.save('web', state(1, [{ name: 'http://w1', status: 'D' }]));
    const down: SharedWorkerState = { inError: true, errorTime: 5, hcFailed: false };
    a.saveWorkerState('web', 'http://w1', down);
    await until(() => heard.length === 2, 3000, 'both changes on the other store');
    assert.deepEqual(heard, [[{ name: 'http://w1', status: 'D' }], ['http://w1', down]]);
    a.publishCounters('web', {
      instance: 'a',
      time: Date.now(),
      workers: { 'http://w1': { elected: 1, transferred: 2, read: 3, busy: 0 } },
    });
    await until(async () => (await admin!.hexists('shop-prod:{b:web}:ctr', 'a')) === 1, 3000, 'the counters');
    // The ACL user's connections are the store's: no command was refused.
    const denied = (await admin!.call('ACL', 'LOG')) as unknown[];
    assert.deepEqual(denied, []);
  });

  test('the same user through a redis:// URL on the plain port', async () => {
    const s = new RedisStore({
      redis: `redis://shop:s3cret@127.0.0.1:${server!.port}`,
      prefix: 'shop-prod:',
      strict: true,
      warn: () => undefined,
    });
    stores.push(s);
    assert.equal(s.target, `redis://127.0.0.1:${server!.port}`);
    const loaded = await s.load('web');
    assert.deepEqual(loaded?.workers, [{ name: 'http://w1', status: 'D' }]);
  });

  test('refusals say what Redis answered, never the password', async () => {
    const wrong = tlsStore({ password: 'not-it', strict: true, connectTimeoutMs: 500 });
    await assert.rejects(wrong.load('web'), (err: RedisStoreError) => {
      assert.equal(err.code, 'ERR_REDIS_UNAVAILABLE');
      assert.match(
        err.message,
        new RegExp(`^rediss://127\\.0\\.0\\.1:${tlsPort} is unreachable at start-up \\(strict\\): WRONGPASS`),
      );
      assert.doesNotMatch(err.message, /not-it|s3cret/);
      return true;
    });
    // A user without +@scripting cannot run the merge script.
    const nolua = tlsStore({ username: 'nolua', password: 'pw', strict: true });
    await assert.rejects(nolua.load('web'), /NOPERM/);
    // The documented user cannot reach another fleet's keys.
    const other = tlsStore({ prefix: 'other:', strict: true });
    await assert.rejects(other.load('web'), /NOPERM/);
    await admin!.call('ACL', 'LOG', 'RESET');
  });
});
