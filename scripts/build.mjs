#!/usr/bin/env node
// Builds the dual package: ESM to dist/esm, CommonJS to dist/cjs (with its own package.json
// {"type":"commonjs"} so Node reads the .js files there as CJS), then loads both builds to check
// that each exposes `balancer`.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync, existsSync } from 'node:fs';
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

rmSync(dist, { recursive: true, force: true });
run(['-p', 'tsconfig.build.json']);
run(['-p', 'tsconfig.cjs.json']);
writeFileSync(join(dist, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');

// Smoke-check both entry points.
for (const f of ['esm/index.js', 'esm/index.d.ts', 'cjs/index.js', 'cjs/index.d.ts']) {
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
