// The coverage run's guard (scripts/coverage-guard.mjs), on the V8 coverage of real node processes: a
// source file compiled in two forms under one URL, or a test process that wrote nothing, is reported.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error: a plain ES module script without type declarations
import { checkCoverage as untypedCheck } from '../../scripts/coverage-guard.mjs';

const checkCoverage = untypedCheck as (
  tempDir: string,
  root: string,
  testFiles: string[],
  sourceDir: string,
) => string[];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ERRORS = join(ROOT, 'lib', 'errors.ts');
const scratch = mkdtempSync(join(tmpdir(), 'epb-coverage-guard-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
/** A fresh directory for one run's V8 coverage files. */
function coverageDir(): string {
  return mkdtempSync(join(scratch, `v8-${++dirs}-`));
}

/**
 * Runs node through tsx with its V8 coverage written to `dir`; resolves with the exit signal. With
 * `killOnOutput`, the process is killed (SIGKILL, which no process can catch) once it prints something.
 */
async function run(dir: string, args: string[], killOnOutput = false): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...process.env, NODE_V8_COVERAGE: dir, HANG_PROBE: killOnOutput ? '1' : '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.once('data', () => {
    if (killOnOutput) child.kill('SIGKILL');
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (signal === null) assert.equal(code, 0);
  return signal;
}

const asModule = ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(ERRORS).href)})`];
const asCommonJs = ['-e', `require(${JSON.stringify(ERRORS)})`];
const asBoth = [
  '--input-type=module',
  '-e',
  `${asModule[2]}; (await import('node:module')).createRequire(${JSON.stringify(ERRORS)})(${JSON.stringify(ERRORS)})`,
];

describe('the coverage guard', () => {
  test('processes that all load a file as an ES module: nothing to report', async () => {
    const dir = coverageDir();
    await run(dir, asModule);
    await run(dir, asModule);
    assert.deepEqual(checkCoverage(dir, ROOT, [], 'lib'), []);
  });

  test('one process requiring the file as CommonJS: the file and its two forms are named', async () => {
    const dir = coverageDir();
    await run(dir, asModule);
    await run(dir, asCommonJs);
    const problems = checkCoverage(dir, ROOT, [], 'lib');
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0]!,
      /^lib\/errors\.ts was compiled in 2 different forms: \d+ bytes, map \w+ in 1 process\(es\), e\.g\. coverage-.*\.json; \d+ bytes, map \w+ in 1 process\(es\), e\.g\. coverage-.*\.json$/,
    );
  });

  test('one process loading the file both ways: loaded twice, and each copy differs from the module', async () => {
    const dir = coverageDir();
    await run(dir, asModule);
    await run(dir, asBoth);
    const problems = checkCoverage(dir, ROOT, [], 'lib');
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^lib\/errors\.ts was loaded twice in the process of coverage-.*\.json$/);
    assert.match(problems[1]!, /^lib\/errors\.ts was compiled in 3 different forms: /);
  });

  test('a test file whose process was killed before writing coverage is named', async () => {
    const probe = join(scratch, 'probe.test.mjs');
    writeFileSync(probe, "if (process.env.HANG_PROBE) { console.log('up'); setInterval(() => {}, 1000); }\n");
    const ran = coverageDir();
    assert.equal(await run(ran, [probe]), null);
    assert.deepEqual(checkCoverage(ran, scratch, ['probe.test.mjs'], 'lib'), []);
    const killed = coverageDir();
    assert.equal(await run(killed, [probe], true), 'SIGKILL');
    assert.deepEqual(checkCoverage(killed, scratch, ['probe.test.mjs'], 'lib'), [
      'probe.test.mjs wrote no coverage (killed or aborted?)',
    ]);
  });
});
