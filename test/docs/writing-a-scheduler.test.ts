/**
 * docs/writing-a-scheduler.md: the power-of-two-choices example, as printed, runs through the real
 * selection with an injected random source. (test/docs/links.test.ts type-checks every block.)
 */
import { describe, it } from 'node:test';
import { completed200 } from '../support/outcomes.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SchedulerFactory } from '../../lib/schedulers/types.js';
import type { Worker } from '../../lib/core/worker.js';
import { Balancer } from '../../lib/balancer/balancer.js';
import { createContext } from '../../lib/model/context.js';
import { selectWorker } from '../../lib/balancer/select.js';
import { validateConfig } from '../../lib/config/validate.js';
import { registerScheduler } from '../../lib/schedulers/registry.js';
import { FakeClock, seededRandom } from '../support/clock.js';
import { ROOT, fencedBlocks, read } from './markdown.js';

const PAGE = 'docs/writing-a-scheduler.md';
const blocks = fencedBlocks(read(PAGE)).filter((b) => b.info === 'ts');

/** A block's file name: its leading `// name.ts` comment, else one made from its place on the page. */
function fileName(text: string, index: number): string {
  return /^\/\/ ([\w-]+\.ts)\n/.exec(text)?.[1] ?? `block-${index + 1}.ts`;
}

/** Loads the p2c.ts block as a module, its package import pointed at the library source. */
async function loadP2c(): Promise<SchedulerFactory> {
  const block = blocks.find((b, i) => fileName(b.text, i) === 'p2c.ts');
  assert.ok(block, `${PAGE} has a p2c.ts block`);
  const dir = mkdtempSync(join(tmpdir(), 'writing-a-scheduler-'));
  try {
    const lib = pathToFileURL(join(ROOT, 'lib', 'index.ts')).href;
    const file = join(dir, 'p2c.ts');
    // An ES module, as in the page's app: without this a .ts file outside the package loads as CommonJS,
    // which would require a second copy of the library under the same file URLs (and mix up coverage).
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(file, block.text.replaceAll("'express-proxy-balancer'", JSON.stringify(lib)));
    const mod = (await import(pathToFileURL(file).href)) as { p2c: SchedulerFactory };
    return mod.p2c;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Random draws from a fixed list (then 0), to choose the two candidates by hand. */
function draws(values: number[]): () => number {
  let i = 0;
  return () => values[i++] ?? 0;
}

function build(members: { id: string; loadfactor?: number; status?: string }[], random: () => number): Balancer {
  const { balancers } = validateConfig({
    balancers: [
      {
        name: 'api',
        mount: '/api',
        lbmethod: 'two-choices',
        members: members.map(({ id, ...m }) => ({ url: `http://${id}:8080`, ...m })),
      },
    ],
  });
  return new Balancer(balancers[0]!, new FakeClock(), random);
}

const id = (w: Worker | undefined): string => w?.url.hostname ?? '-';

describe(PAGE, () => {
  it('has the contract, registering, p2c.ts and app.ts blocks', () => {
    assert.deepEqual(
      blocks.map((b, i) => fileName(b.text, i)),
      ['block-1.ts', 'block-2.ts', 'p2c.ts', 'app.ts'],
    );
  });

  it('p2c: two different candidates drawn by the injected random, the less loaded per weight wins', async () => {
    registerScheduler('two-choices', await loadP2c());
    // The block shares this file's library: no second copy of lib/ was loaded as CommonJS.
    const libDir = join(ROOT, 'lib');
    assert.deepEqual(
      Object.keys(createRequire(import.meta.url).cache).filter((f) => f.startsWith(libDir)),
      [],
    );
    // Draws 0, 0: i = 0 (a), j = 0 → 1 (b), a second index never equal to the first. Idle, a's load is
    // 1/100 and b's 1/200 (loadfactor 2): b. Then 0.99, 0: i = 1 (b), j = 0 (a); b holds one request,
    // so 2/200 = 1/100 ties with a, and a tie keeps the first draw: b.
    const b = build([{ id: 'a' }, { id: 'b', loadfactor: 2 }, { id: 'c', status: '+H' }], draws([0, 0, 0.99, 0]));
    const first = selectWorker(b, undefined, createContext(b.id), undefined).worker;
    assert.equal(id(first), 'b');
    b.acquire(first!);
    assert.equal(id(selectWorker(b, undefined, createContext(b.id), undefined).worker), 'b');
    // The hot standby c is not a candidate while a or b is usable; alone, it is picked without a draw.
    b.setFlag(b.workers[0]!, 0x04, true, 'test');
    b.setFlag(b.workers[1]!, 0x04, true, 'test');
    assert.equal(id(selectWorker(b, undefined, createContext(b.id), undefined).worker), 'c');
  });

  it('p2c: 3000 selections, 60 in flight, split about 1 : 2 : 1 by weight', () => {
    const b = build([{ id: 'a' }, { id: 'b', loadfactor: 2 }, { id: 'c' }], seededRandom(17));
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const held: Worker[] = [];
    for (let i = 0; i < 3000; i++) {
      const sel = selectWorker(b, undefined, createContext(b.id), undefined);
      assert.ok(sel.worker, `selection ${i}: no worker`);
      const w = sel.worker;
      counts[id(w)]!++;
      b.acquire(w);
      held.push(w);
      if (held.length > 60) {
        const done = held.shift()!;
        b.release(done, completed200(), 'GET');
      }
    }
    assert.equal(counts.a! + counts.b! + counts.c!, 3000);
    // Expected shares 750 : 1500 : 750; P2C is a randomised rule, so the test allows ±10 %.
    for (const [name, expected] of [
      ['a', 750],
      ['b', 1500],
      ['c', 750],
    ] as const) {
      assert.ok(Math.abs(counts[name]! - expected) <= expected / 10, `${name}: ${counts[name]} of 3000`);
    }
  });
});
