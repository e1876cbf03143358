import { test } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { balancer, type BalancerConfig, type BalancerMiddleware } from '../../lib/index.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { listen, request, type Reply } from '../support/http.js';
import { FakeClock } from '../support/clock.js';

interface Rig {
  lb: BalancerMiddleware;
  ups: Upstream[];
  base: string;
  clock: FakeClock;
  get(path: string, cookie?: string): Promise<Reply>;
  close(): Promise<void>;
}

/** Four real upstreams a..d with routes node1..node4, a balancer over them in a real Express app. */
async function rig(members: Record<string, unknown>[], balancerOpts: Record<string, unknown> = {}): Promise<Rig> {
  const ups = await startUpstreams('a', 'b', 'c', 'd');
  const clock = new FakeClock();
  const config = {
    clock,
    exposeHeaders: true,
    balancers: [
      {
        name: 'app',
        mount: '/app',
        stickysession: 'JSESSIONID',
        ...balancerOpts,
        members: ups.map((u, i) => ({ url: u.url, route: `node${i + 1}`, ...members[i] })),
      },
    ],
  } as BalancerConfig;
  const lb = balancer(config);
  const app = express();
  app.use(lb);
  const srv = await listen(app);
  return {
    lb,
    ups,
    base: srv.base,
    clock,
    get: (path, cookie) => request(srv.base, path, cookie ? { headers: { cookie } } : {}),
    async close() {
      await lb.close(100);
      await srv.close();
      await stopAll(ups);
    },
  };
}

async function who(r: Rig, n: number, path: string, cookie?: string): Promise<string> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const rep = await r.get(path, cookie);
    out.push(rep.status === 200 ? (rep.from ?? '?') : String(rep.status));
  }
  return out.join(' ');
}

test('redirect chain: a disabled worker hands its sticky traffic to its redirect, reported as a route change', async () => {
  const r = await rig([{}, { status: '+D', redirect: 'node3' }, {}, {}]);
  try {
    const rep = await r.get('/app/x', 'JSESSIONID=s.node2');
    assert.equal(rep.from, 'c');
    assert.equal(rep.headers['x-balancer-route-changed'], '1');
    assert.equal(rep.headers['x-balancer-session-route'], 'node2');
    assert.equal(rep.headers['x-balancer-worker-route'], 'node3');
  } finally {
    await r.close();
  }
});

test('a redirect loop (a → b → a, both unusable) ends and the request is balanced', async () => {
  const r = await rig([{ status: '+D', redirect: 'node2' }, { status: '+D', redirect: 'node1' }, {}, {}]);
  try {
    assert.equal(await who(r, 4, '/app/x', 'JSESSIONID=s.node1'), 'c d c d');
  } finally {
    await r.close();
  }
});

test('a draining worker keeps its sticky traffic but gets no balanced traffic', async () => {
  const r = await rig([{ status: '+N' }, {}, {}, {}]);
  try {
    assert.equal(await who(r, 3, '/app/x', 'JSESSIONID=s.node1'), 'a a a');
    assert.ok(!(await who(r, 6, '/app/y')).includes('a'));
  } finally {
    await r.close();
  }
});

test('a hot standby is found by route only after regular workers', async () => {
  const r = await rig([{}, {}, { status: '+H', route: 'shared' }, { route: 'shared' }]);
  try {
    assert.equal(await who(r, 2, '/app/x', 'JSESSIONID=s.shared'), 'd d');
    r.lb.balancers[0]!.workers[3]!.status |= 4; // D: the regular owner goes away
    assert.equal(await who(r, 2, '/app/x', 'JSESSIONID=s.shared'), 'c c');
  } finally {
    await r.close();
  }
});

test('nofailover: 503 only for a route owned by a worker; stale or forged routes are balanced', async () => {
  const r = await rig([{}, {}, {}, {}], { nofailover: true });
  try {
    await r.ups[1]!.stop();
    assert.equal(await who(r, 2, '/app/x', 'JSESSIONID=s.node2'), '503 503');
    assert.equal(r.ups[1]!.hits.length, 0);
    const forged = await r.get('/app/x', 'JSESSIONID=s.node9');
    assert.equal(forged.status, 200);
    assert.equal(forged.headers['x-balancer-route-changed'], '1');
    assert.equal((await r.get('/app/x')).status, 200);
  } finally {
    await r.close();
  }
});

test('sticky failover re-runs the route lookup per attempt and retries the worker after its retry time', async () => {
  const r = await rig([{ retry: 2000 }, { retry: 2000 }, { retry: 2000 }, { retry: 2000 }]);
  try {
    assert.equal(await who(r, 1, '/app/s', 'JSESSIONID=abc.node2'), 'b');
    await r.ups[1]!.stop();
    const moved = await r.get('/app/s', 'JSESSIONID=abc.node2');
    assert.equal(moved.status, 200);
    assert.notEqual(moved.from, 'b');
    assert.equal(moved.headers['x-balancer-route-changed'], '1');
    assert.equal(r.lb.balancers[0]!.workers[1]!.inError, true);
    await r.ups[1]!.start(r.ups[1]!.port);
    assert.notEqual((await r.get('/app/s', 'JSESSIONID=abc.node2')).from, 'b');
    r.clock.advance(2000);
    assert.equal(await who(r, 2, '/app/s', 'JSESSIONID=abc.node2'), 'b b');
  } finally {
    await r.close();
  }
});

test('route cookie: set when the route changes, honoured afterwards, never overwriting the backend cookie', async () => {
  const r = await rig([{}, {}, {}, {}], { stickysession: undefined, routecookie: { name: 'ROUTEID' } });
  try {
    r.ups[0]!.mode = { status: 200, headers: { 'set-cookie': ['app=1; Path=/', 'theme=dark'] } };
    const first = await r.get('/app/x');
    const cookies = first.headers['set-cookie'] ?? [];
    assert.deepEqual(cookies.slice(0, 2), ['app=1; Path=/', 'theme=dark'], 'backend cookies first and intact');
    assert.equal(cookies.length, 3);
    const route = cookies.find((c) => c.startsWith('ROUTEID='));
    assert.ok(route, `no route cookie in ${JSON.stringify(cookies)}`);
    assert.match(route, /^ROUTEID=\.node1; Path=\/; HttpOnly; SameSite=Lax$/);
    const again = await r.get('/app/x', 'ROUTEID=.node1');
    assert.equal(again.from, 'a');
    assert.deepEqual(
      again.headers['set-cookie'],
      ['app=1; Path=/', 'theme=dark'],
      'route unchanged: no new route cookie',
    );
  } finally {
    await r.close();
  }
});

test('signed route cookie: forged or unsigned values are ignored, old keys still verify after rotation', async () => {
  const opts = {
    stickysession: undefined,
    routecookie: { secret: ['new-secret-0123456789', 'old-secret-0123456789'] },
  };
  const r = await rig([{}, {}, {}, {}], opts);
  try {
    const first = await r.get('/app/x');
    const cookie = (first.headers['set-cookie'] ?? [])[0] ?? '';
    const m = /^ROUTEID=([^;]+)/.exec(cookie);
    assert.ok(m, cookie);
    const value = m[1]!;
    assert.match(value, /^[A-Za-z0-9_-]{22}\.node1$/);
    assert.equal(await who(r, 3, '/app/x', `ROUTEID=${value}`), 'a a a');
    // A client editing the route (or dropping the signature) is not pinned where it asked.
    const forged = value.replace('node1', 'node3');
    const hits = await who(r, 4, '/app/x', `ROUTEID=${forged}`);
    assert.notEqual(hits, 'c c c c');
    const unsigned = await r.get('/app/x', 'ROUTEID=.node3');
    assert.ok(unsigned.headers['set-cookie'], 'an unsigned cookie is not a route: a new one is issued');
    // Rotation: a cookie signed with the old key still routes.
    const rotated = balancer({
      balancers: [
        {
          name: 'app',
          mount: '/app',
          routecookie: { secret: 'old-secret-0123456789' },
          members: r.ups.map((u, i) => ({ url: u.url, route: `node${i + 1}` })),
        },
      ],
    });
    const oldSigned = await new Promise<string>((resolve) => {
      const app = express();
      app.use(rotated);
      void listen(app).then(async (s) => {
        await request(s.base, '/app/a');
        await request(s.base, '/app/b');
        const rep = await request(s.base, '/app/c');
        await rotated.close(100);
        await s.close();
        resolve(/^ROUTEID=([^;]+)/.exec((rep.headers['set-cookie'] ?? [])[0] ?? '')?.[1] ?? '');
      });
    });
    assert.match(oldSigned, /\.node3$/);
    assert.equal(await who(r, 2, '/app/x', `ROUTEID=${oldSigned}`), 'c c');
  } finally {
    await r.close();
  }
});

test('a malformed Cookie header never fails the request', async () => {
  const r = await rig([{}, {}, {}, {}]);
  try {
    for (const cookie of [
      'JSESSIONID',
      '=;;=',
      'JSESSIONID="unterminated',
      'JSESSIONID=%E0%A4%A.node2',
      `JSESSIONID=${'x'.repeat(8000)}.node1`,
    ]) {
      assert.equal((await r.get('/app/x', cookie)).status, 200, cookie.slice(0, 40));
    }
  } finally {
    await r.close();
  }
});
