// examples/cluster: node:cluster workers behind one port, the manager on one of them, state on Redis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from '../support/http.js';
import { RedisServer, redisSkip } from './redis-server.js';

const APP = fileURLToPath(new URL('../../examples/cluster/app.ts', import.meta.url));

interface Ready {
  url: string;
  manager: string;
  workers: number;
  backends: { name: string; url: string }[];
}

test(
  'examples/cluster: a change in the manager (worker 1) takes effect in every worker',
  { skip: redisSkip() },
  async (t) => {
    const redis = await new RedisServer().start();
    t.after(() => redis.kill());
    const proc = spawn(process.execPath, ['--import', 'tsx', APP], {
      env: {
        ...process.env,
        WORKERS: '3',
        PORT: '0',
        MANAGER_PORT: '0',
        REDIS_URL: redis.url,
        REDIS_PREFIX: `example-${process.pid}:`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    t.after(async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      process.kill(proc.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(proc.pid!, 'SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no READY line in 60 s: ${out} ${stderr}`)), 60_000);
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /READY (\{.*\})/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(JSON.parse(m[1]!) as Ready);
        }
      });
      proc.once('exit', (code) => reject(new Error(`example exited (${code}): ${stderr}`)));
    });
    assert.equal(ready.workers, 3);

    const sample = async (count: number): Promise<{ workers: Set<string>; backends: Map<string, number> }> => {
      const workers = new Set<string>();
      const backends = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const r = await request(ready.url, '/app/hello');
        assert.equal(r.status, 200, r.body);
        workers.add(String(r.headers['x-cluster-worker']));
        backends.set(r.from!, (backends.get(r.from!) ?? 0) + 1);
      }
      return { workers, backends };
    };
    const before = await sample(60);
    assert.equal(before.workers.size, 3, `answered by ${[...before.workers].join(',')}`);
    assert.ok((before.backends.get('b2') ?? 0) > 0);

    const b2 = ready.backends.find((b) => b.name === 'b2')!.url;
    const info = await request(ready.manager, '/balancer-manager/api/balancers/demo');
    const nonce = (JSON.parse(info.body) as { balancer: { nonce: string } }).balancer.nonce;
    const origin = new URL(ready.manager).origin;
    const edit = await request(origin, `/balancer-manager/api/balancers/demo/workers/${encodeURIComponent(b2)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', origin, 'x-balancer-nonce': nonce },
      body: JSON.stringify({ flags: { D: true } }),
    });
    assert.equal(edit.status, 200, edit.body);
    await new Promise((r) => setTimeout(r, 100));

    const after = await sample(60);
    assert.equal(after.workers.size, 3, 'every worker still answers');
    assert.equal(after.backends.get('b2') ?? 0, 0, `b2 still used: ${JSON.stringify([...after.backends])}`);

    // The manager (worker 1) sums the elected counters of all three workers (published every second).
    interface Snap {
      cluster: { instances: string[] };
      balancers: { workers: { elected: number }[] }[];
    }
    const total = (x: Snap): number => x.balancers[0]!.workers.reduce((n, w) => n + w.elected, 0);
    const deadline = Date.now() + 5000;
    let snap: Snap;
    do {
      await new Promise((r) => setTimeout(r, 200));
      snap = JSON.parse((await request(ready.manager, '/balancer-manager/api')).body) as Snap;
    } while ((total(snap) < 120 || snap.cluster.instances.length < 3) && Date.now() < deadline);
    assert.equal(snap.cluster.instances.length, 3);
    assert.equal(total(snap), 120);
  },
);
