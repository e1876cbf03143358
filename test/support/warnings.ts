// A process warning nobody asked for fails the test file it happened in.
//
// scripts/run-tests.mjs loads this module into every test process with `--import` (node's test runner
// hands its own execArgv on to the process it starts for each file, on Node 20, 22 and 24 alike).
// A DeprecationWarning, a MaxListenersExceededWarning or any process.emitWarning() is written to
// stderr with its name, code and stack, and the file's process exits with code 1, which the runner
// reports as a failure of that file even when every test in it passed.
//
// A test that provokes a warning on purpose takes it with captureWarnings(t, { name, code }) and
// asserts it; only warnings of exactly that name and code, emitted while that test runs, are taken.
//
// Nothing is filtered: neither tsx nor the test runner emits a warning of its own on Node 20.20, 22.23
// or 24.21. Should a Node release add one, match it here by exact name and code, and say why.
import type { TestContext } from 'node:test';

export interface WarningMatch {
  name: string;
  code: string;
}

interface Capture extends WarningMatch {
  taken: Error[];
}

interface Guard {
  captures: Set<Capture>;
  unexpected: Error[];
}

// One guard per process, even if this module were loaded twice (once by --import, once by a test).
const KEY = Symbol.for('express-proxy-balancer.test.warnings');
type WithGuard = typeof globalThis & { [KEY]?: Guard };

function codeOf(w: Error): unknown {
  return (w as Error & { code?: unknown }).code;
}

function matches(w: Error, m: WarningMatch): boolean {
  return w.name === m.name && codeOf(w) === m.code;
}

function label(w: Error): string {
  const code = codeOf(w);
  return typeof code === 'string' ? `${w.name} [${code}]` : w.name;
}

function install(): Guard {
  const g = globalThis as WithGuard;
  if (g[KEY] !== undefined) return g[KEY];
  const guard: Guard = { captures: new Set(), unexpected: [] };
  g[KEY] = guard;
  process.on('warning', (w: Error) => {
    for (const c of guard.captures) {
      if (matches(w, c)) {
        c.taken.push(w);
        return;
      }
    }
    guard.unexpected.push(w);
    process.exitCode = 1;
    process.stderr.write(`\nunexpected process warning, fails this test file: ${label(w)}\n${w.stack ?? w.message}\n`);
  });
  // Whatever set the exit code since, a file with an unexpected warning does not exit 0.
  process.on('exit', () => {
    if (guard.unexpected.length === 0) return;
    process.exitCode = 1;
    const labels = guard.unexpected.map(label).join(', ');
    process.stderr.write(`\n${guard.unexpected.length} unexpected process warning(s): ${labels}\n`);
  });
  return guard;
}

const guard = install();

/**
 * Takes the warnings of exactly this name and code emitted while test `t` runs, instead of failing the
 * file on them; returns the array they are pushed to, for the test to assert.
 */
export function captureWarnings(t: TestContext, match: WarningMatch): Error[] {
  const capture: Capture = { name: match.name, code: match.code, taken: [] };
  guard.captures.add(capture);
  t.after(() => {
    guard.captures.delete(capture);
  });
  return capture.taken;
}
