// Installs the package the two ways a user can: the tarball `npm pack` makes from a clean, unbuilt
// checkout, and a git URL (npm clones it and runs `prepare`). Each goes into an empty project that
// type-checks an ESM + Express 5 consumer under strict TypeScript (node16 and bundler resolution)
// and runs a CommonJS + Express 4 program and an ESM node:http program against real backends.
// publint and Are the Types Wrong check the tarball.
//
// What is tested is the repository's committed HEAD (a fresh clone of it), not the work tree.
// The consumers' packages come from the npm registry through the user's npm cache (offline when
// the cache has them); a registry that cannot be reached fails the test with that reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { consumerPackageJson, TSCONFIGS, TYPES_CONSUMER } from './consumer.js';
import { run, npm } from './run.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const consumerDir = join(dirname(fileURLToPath(import.meta.url)), 'consumer');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

const work = mkdtempSync(join(tmpdir(), 'epb-install-'));
after(() => rmSync(work, { recursive: true, force: true }));

const clone = join(work, 'clone');
let head = '';
let tarball = '';
let packed: string[] = [];
/** The git-URL project, installed while the tarball is made and tested (npm builds it in its own clone). */
let fromGit: Promise<string> | undefined;

/** Every file below `dir` (outside its node_modules), as sorted forward-slash paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !relative(dir, e.parentPath).split(sep).includes('node_modules'))
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** Files below `dir` that name this checkout, the temporary folder or npm's cache (where git installs are built). */
function leaks(dir: string): string[] {
  return filesUnder(dir).filter((f) => {
    const text = readFileSync(join(dir, f), 'latin1');
    return text.includes(work) || text.includes(root) || text.includes('/_cacache/');
  });
}

before(async () => {
  head = (await run('git', ['rev-parse', 'HEAD'], root)).stdout.trim();
  await run('git', ['clone', '--quiet', root, clone], work);
  await run('git', ['checkout', '--quiet', '--detach', head], clone);
  fromGit = project('from-git', `git+file://${clone}#${head}`);
  fromGit.catch(() => undefined); // reported by the git-URL tests' before()
  // The clone has no dist/: `npm pack` must build it (prepack). It borrows our dependencies.
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir');
  const out = await npm(['pack', '--json', '--pack-destination', work], clone);
  const [info] = JSON.parse(out.stdout.slice(out.stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(work, info!.filename);
  packed = info!.files.map((f) => f.path).sort();
});

describe('the packed tarball', () => {
  test('holds the build, the sources its maps point to, the docs and the licence, and nothing else of ours', () => {
    for (const f of ['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts']) {
      assert.ok(packed.includes(f), `${f} is in the tarball`);
    }
    assert.ok(packed.includes('dist/cjs/package.json'), 'dist/cjs/package.json marks the CommonJS build');
    const top = [...new Set(packed.map((p) => p.split('/')[0]))].sort();
    assert.deepEqual(top, ['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'docs', 'lib', 'package.json']);
    // Every declaration map's sources are shipped, so "go to definition" lands on real code.
    const sources = packed.filter((p) => p.startsWith('lib/')).map((p) => p.replace(/^lib\//, '').replace(/\.ts$/, ''));
    const built = packed.filter((p) => p.startsWith('dist/esm/') && p.endsWith('.d.ts')).map((p) => p.slice(9, -5));
    assert.deepEqual(built, sources);
  });

  test('names no path of the machine that built it', async () => {
    const extracted = join(work, 'extracted');
    mkdirSync(extracted);
    await run('tar', ['-xzf', tarball, '-C', extracted], work);
    assert.deepEqual(leaks(join(extracted, 'package')), []);
  });

  test('publint finds nothing, warnings included', async () => {
    const r = await run(bin('publint'), ['run', tarball, '--strict'], work);
    assert.match(r.stdout, /All good!/);
  });

  test('Are the Types Wrong finds nothing for node10, node16 (CJS and ESM) and bundler', async () => {
    const r = await run(bin('attw'), [tarball, '--no-definitely-typed', '--format', 'json'], work);
    const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[] } };
    assert.deepEqual(report.analysis.problems, []);
  });
});

/** Installs `spec` into an empty project with the consumers' packages, and returns the project. */
async function project(name: string, spec: string): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir);
  const devDeps = (
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  ).devDependencies;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(consumerPackageJson(spec, devDeps), null, 2));
  cpSync(consumerDir, dir, { recursive: true });
  writeFileSync(join(dir, 'types.ts'), TYPES_CONSUMER);
  for (const [file, config] of Object.entries(TSCONFIGS)) writeFileSync(join(dir, file), JSON.stringify(config));
  await npm(['install'], dir);
  return dir;
}

function installed(dir: string): string {
  return join(dir, 'node_modules', 'express-proxy-balancer');
}

/** The type checks of the ESM + Express 5 consumer; `getDir` gives a project made by project(). */
function typeChecks(getDir: () => string): void {
  for (const tsconfig of Object.keys(TSCONFIGS)) {
    test(`ESM + Express 5 type-checks under strict TypeScript (${tsconfig})`, async () => {
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const r = await run(process.execPath, [tsc, '-p', tsconfig], getDir());
      assert.equal(r.stdout, '');
    });
  }
}

/** The programs every install must run. */
function programs(getDir: () => string): void {
  test('CommonJS + Express 4 proxies a request and serves the manager API', async () => {
    const dir = getDir();
    const r = await run(process.execPath, ['express4.cjs'], dir);
    assert.deepEqual(JSON.parse(r.stdout), {
      entry: join(installed(dir), 'dist', 'cjs', 'index.js'),
      express: '4',
      proxied: { status: 200, body: 'backend /hello?x=1' },
      managerStatus: 200,
      balancers: ['app'],
    });
  });

  test('ESM on node:http proxies a request and leaves other paths to next()', async () => {
    const dir = getDir();
    const r = await run(process.execPath, ['node-http.mjs'], dir);
    assert.deepEqual(JSON.parse(r.stdout), {
      entry: `file://${join(installed(dir), 'dist', 'esm', 'index.js')}`,
      proxied: { status: 200, body: 'backend /hello?x=1' },
      other: { status: 404, body: 'not proxied' },
    });
  });
}

describe('installed from the tarball', () => {
  let dir = '';
  before(async () => {
    dir = await project('from-tarball', `file:${tarball}`);
  });
  test('installs exactly the packed files', () => {
    assert.deepEqual(filesUnder(installed(dir)), packed);
  });
  typeChecks(() => dir);
  programs(() => dir);
});

describe('installed from a git URL', () => {
  let dir = '';
  before(async () => {
    dir = await fromGit!;
  });
  // Byte for byte the tarball's package, so the tarball's type checks hold for it too.
  test('is built by prepare and installs the files of the tarball, byte for byte', () => {
    const files = filesUnder(installed(dir));
    assert.deepEqual(files, packed);
    const tarballDir = installed(join(work, 'from-tarball'));
    const differ = files.filter(
      (f) => !readFileSync(join(installed(dir), f)).equals(readFileSync(join(tarballDir, f))),
    );
    assert.deepEqual(differ, []);
    assert.deepEqual(leaks(installed(dir)), []);
  });
  programs(() => dir);
});
