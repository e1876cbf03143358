#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner through tsx.
//
//   node scripts/run-tests.mjs                 all tests
//   node scripts/run-tests.mjs sticky manager  only files whose path contains "sticky" or "manager"
//   node scripts/run-tests.mjs --coverage      under c8 (config in .c8rc.json)
//
// Node 20's --test neither expands globs nor picks up .ts files by itself (it would run zero tests
// and exit 0), so the file list is built here, sorted, and passed explicitly. Zero files is an error.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const coverage = args.includes('--coverage');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--coverage');
if (unknown.length > 0) {
  console.error(`run-tests: unknown option(s): ${unknown.join(' ')}`);
  process.exit(2);
}
const filters = args.filter((a) => !a.startsWith('-'));

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile() && e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const all = walk(join(root, 'test'))
  .map((p) => relative(root, p).split(sep).join('/'))
  .sort();
const files = filters.length === 0 ? all : all.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(
    filters.length === 0
      ? 'run-tests: no test files found under test/'
      : `run-tests: no test file matches ${filters.map((f) => JSON.stringify(f)).join(', ')}`,
  );
  process.exit(1);
}
console.log(`run-tests: ${files.length} file(s)${coverage ? ' with coverage' : ''}`);

const nodeArgs = ['--import', 'tsx', '--test', ...files];
const [cmd, cmdArgs] = coverage
  ? [process.execPath, [join(root, 'node_modules', 'c8', 'bin', 'c8.js'), process.execPath, ...nodeArgs]]
  : [process.execPath, nodeArgs];

const child = spawn(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
// Pass Ctrl-C / termination on to the runner (it stops its test processes itself).
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (child.pid !== undefined) process.kill(child.pid, sig);
  });
}
child.on('error', (err) => {
  console.error(`run-tests: could not start ${cmd}: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`run-tests: test runner killed by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
