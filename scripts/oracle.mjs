#!/usr/bin/env node
// Replays oracle scenarios against the library and compares with Apache's recordings:
//   node scripts/oracle.mjs [name ...] [--flags "--env --headers"] [--oracle ../shared/oracle]
// For each scenario: start scripts/serve-scenario.mjs on a port, run the oracle's replay.mjs with
// --compare, stop the server by PID. Prints one line per scenario and "N passed, N failed".
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
let oracle = path.resolve(HERE, '..', '..', 'shared', 'oracle');
let flags = [];
const names = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--oracle') oracle = path.resolve(argv[++i]);
  else if (argv[i] === '--flags') flags = argv[++i].split(/\s+/).filter(Boolean);
  else names.push(argv[i]);
}
const all = fs
  .readdirSync(path.join(oracle, 'scenarios'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5));
const chosen = names.length ? all.filter((n) => names.some((x) => n.includes(x))) : all;
const PORT = 18085;
const outDir = path.join(HERE, '..', '.run', 'oracle');
fs.mkdirSync(outDir, { recursive: true });

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

async function serve(file) {
  const child = spawn(process.execPath, [path.join(HERE, 'serve-scenario.mjs'), file, '--port', String(PORT)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('serving') && resolve());
    child.once('exit', () => reject(new Error(`server exited: ${err}`)));
  });
  return child;
}

let passed = 0;
let failed = 0;
for (const name of chosen) {
  const file = path.join(oracle, 'scenarios', `${name}.json`);
  let server;
  try {
    server = await serve(file);
  } catch (err) {
    failed++;
    console.log(
      `${name}: could not start: ${
        String(err.message)
          .split('\n')
          .find((l) => l.startsWith('Error')) ?? err.message
      }`,
    );
    continue;
  }
  const out = path.join(outDir, `${name}.json`);
  const replay = await run(process.execPath, [
    path.join(oracle, 'replay.mjs'),
    file,
    '--base',
    `http://127.0.0.1:${PORT}`,
    '--out',
    out,
    '--manager',
  ]);
  const cmp =
    replay.code === 0 || fs.existsSync(out)
      ? await run(process.execPath, [
          path.join(oracle, 'compare.mjs'),
          path.join(oracle, 'expected', `${name}.json`),
          out,
          ...flags,
        ])
      : { code: 1, out: replay.out };
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  if (cmp.code === 0) passed++;
  else failed++;
  process.stdout.write(cmp.out.trim() + '\n');
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
