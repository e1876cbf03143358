// The suite's warning guard (test/support/warnings.ts): an unexpected process warning fails the file it
// happens in, through node's test runner, which must hand the --import on to the file's process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GUARD = pathToFileURL(fileURLToPath(new URL('../support/warnings.ts', import.meta.url))).href;
const PROBE = fileURLToPath(new URL('fixtures/warning-probe.ts', import.meta.url));

/** Runs the probe file under node's test runner as scripts/run-tests.mjs does; exit code and output. */
async function runProbe(warningCase: string): Promise<{ code: number | null; output: string }> {
  // Without NODE_TEST_CONTEXT (set for this file's process), the child is a runner of its own.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', GUARD, '--test', PROBE], {
    env: { ...env, WARNING_CASE: warningCase },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

describe('a process warning during a test file', () => {
  test('one nobody captures fails the file, naming the warning and its code', async () => {
    const { code, output } = await runProbe('unexpected');
    assert.equal(code, 1, output);
    assert.match(output, /unexpected process warning, fails this test file: ProbeWarning \[PROBE\]/);
    assert.match(output, /1 unexpected process warning\(s\): ProbeWarning \[PROBE\]/);
  });

  test('one the test captures by name and code is handed to it and fails nothing', async () => {
    const { code, output } = await runProbe('captured');
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /unexpected process warning/);
  });

  test('a capture takes only its own code: another one still fails the file', async () => {
    const { code, output } = await runProbe('other-code');
    assert.equal(code, 1, output);
    assert.match(output, /unexpected process warning, fails this test file: ProbeWarning \[PROBE_OTHER\]/);
  });
});
