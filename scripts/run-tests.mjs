#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner through tsx.
//
//   node scripts/run-tests.mjs                 all tests
//   node scripts/run-tests.mjs sticky manager  only files whose path contains "sticky" or "manager"
//   node scripts/run-tests.mjs --coverage      under c8 (config in .c8rc.json); fails if the raw
//                                              coverage cannot be trusted (scripts/coverage-guard.mjs)
//   node scripts/run-tests.mjs --node <path>   on another node binary (default: the one running this)
//   node scripts/run-tests.mjs --engine undici  balancers that name no engine use undici (test/support/engine.ts)
//
// Every test process loads test/support/warnings.ts: a process warning no test asked for fails its file.
//
// Node 20's --test neither expands globs nor picks up .ts files by itself (it would run zero tests
// and exit 0), so the file list is built here, sorted, and passed explicitly. Zero files is an error.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkCoverage } from './coverage-guard.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const nodeAt = args.indexOf('--node');
const nodeBin = nodeAt === -1 ? process.execPath : args[nodeAt + 1];
if (nodeBin === undefined || nodeBin.startsWith('-')) {
  console.error('run-tests: --node needs the path of a node binary');
  process.exit(2);
}
if (nodeAt !== -1) args.splice(nodeAt, 2);
const engineAt = args.indexOf('--engine');
const engine = engineAt === -1 ? undefined : args[engineAt + 1];
if (engineAt !== -1 && (engine === undefined || engine.startsWith('-'))) {
  console.error('run-tests: --engine needs an engine name (http-proxy or undici)');
  process.exit(2);
}
if (engineAt !== -1) args.splice(engineAt, 2);
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
let version;
try {
  version = execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
} catch (err) {
  console.error(`run-tests: cannot run node at ${nodeBin}: ${err.message}`);
  process.exit(1);
}
const engineNote = engine === undefined ? '' : `, engine ${engine}`;
console.log(`run-tests: ${files.length} file(s) on node ${version}${engineNote}${coverage ? ' with coverage' : ''}`);

// The test runner passes these on to the process it starts for each file.
const warnings = pathToFileURL(join(root, 'test', 'support', 'warnings.ts')).href;
const engineSupport = pathToFileURL(join(root, 'test', 'support', 'engine.ts')).href;
const nodeArgs = ['--import', 'tsx', '--import', warnings, '--import', engineSupport, '--test', ...files];
const [cmd, cmdArgs] = coverage
  ? [nodeBin, [join(root, 'node_modules', 'c8', 'bin', 'c8.js'), nodeBin, ...nodeArgs]]
  : [nodeBin, nodeArgs];
// On another node, tests that start `node` or `npm` by name get that node too, as those started by path do.
const env = { ...process.env };
if (nodeAt !== -1) env.PATH = `${dirname(resolve(nodeBin))}${delimiter}${process.env.PATH ?? ''}`;
if (engine !== undefined) env.EXPRESS_PROXY_BALANCER_TEST_ENGINE = engine;

const child = spawn(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env });
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
  if (coverage && !coverageTrusted()) process.exit(1);
  process.exit(code ?? 1);
});

/** Checks the raw coverage c8 reported from; says why the report is wrong if it is. */
function coverageTrusted() {
  const config = JSON.parse(readFileSync(join(root, '.c8rc.json'), 'utf8'));
  const problems = checkCoverage(join(root, config['temp-directory']), root, files, 'lib');
  if (problems.length === 0) return true;
  console.error(`run-tests: the coverage report above is wrong (${problems.length} problem(s)):`);
  for (const p of problems.slice(0, 20)) console.error(`  ${p}`);
  if (problems.length > 20) console.error(`  … and ${problems.length - 20} more`);
  return false;
}
