#!/usr/bin/env node
// Builds the dual package: ESM to dist/esm, CommonJS to dist/cjs (with its own package.json
// {"type":"commonjs"} so Node reads the .js files there as CJS), then loads both builds to check
// that each exposes `balancer`.
//
//   node scripts/build.mjs             always builds
//   node scripts/build.mjs --if-stale  builds unless dist/ is newer than every source (npm's `prepare`:
//                                      npm runs it right after `prepack` on `npm pack`, and twice when
//                                      installing from git, so the second run has nothing to do)
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function run(args) {
  console.log(`$ tsc ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: tsc ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

const entries = ['esm/index.js', 'esm/index.d.ts', 'cjs/index.js', 'cjs/index.d.ts'];

/** Newest modification time of a file or of any file below a folder. */
function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

function upToDate() {
  if (!entries.every((f) => existsSync(join(dist, f)))) return false;
  const built = Math.min(...entries.map((f) => statSync(join(dist, f)).mtimeMs));
  const sources = [
    'lib',
    'scripts/build.mjs',
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'tsconfig.cjs.json',
  ];
  return sources.every((s) => newest(join(root, s)) < built);
}

if (process.argv.includes('--if-stale') && upToDate()) {
  console.log('build: dist/ is newer than every source; nothing to do');
  process.exit(0);
}

rmSync(dist, { recursive: true, force: true });
run(['-p', 'tsconfig.build.json']);
run(['-p', 'tsconfig.cjs.json']);
writeFileSync(join(dist, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');

// Smoke-check both entry points.
for (const f of entries) {
  if (!existsSync(join(dist, f))) {
    console.error(`build: dist/${f} is missing`);
    process.exit(1);
  }
}
const cjs = createRequire(import.meta.url)(join(dist, 'cjs', 'index.js'));
const esm = await import(pathToFileURL(join(dist, 'esm', 'index.js')).href);
for (const [kind, mod] of [
  ['cjs', cjs],
  ['esm', esm],
]) {
  if (typeof mod.balancer !== 'function') {
    console.error(`build: dist/${kind}/index.js does not export balancer()`);
    process.exit(1);
  }
}
console.log('build: dist/esm and dist/cjs written; both export balancer()');
