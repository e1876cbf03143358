/**
 * The package's public surface, as its declaration files show it: exactly the names below, and no
 * internals. Declarations marked @internal are stripped (stripInternal in tsconfig.build.json, which
 * tsconfig.cjs.json extends), so the scheduler bookkeeping on Worker never reaches users' types.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every name the package entry exports, values and types. Adding one is a decision: add it here. */
const PUBLIC = [
  'AdminLetter',
  'ApacheImport',
  'ApacheImportOptions',
  'ApacheServerSettings',
  'ApacheWarning',
  'AttemptEvent',
  'AttemptRecord',
  'AttemptTrace',
  'Balancer',
  'BalancerConfig',
  'BalancerEdit',
  'BalancerError',
  'BalancerEvents',
  'BalancerHealth',
  'BalancerMiddleware',
  'BalancerOptions',
  'BalancerSnapshot',
  'ChangeSet',
  'Candidate',
  'CheckResult',
  'Clock',
  'ClusterSync',
  'CodeOf',
  'ConfigError',
  'DiscoveredMemberOptions',
  'Duration',
  'ERRORS',
  'ERROR_CODES',
  'ErrorClass',
  'ErrorCode',
  'ErrorEntry',
  'ErrorInfo',
  'FLAGS',
  'FileStore',
  'HcMethod',
  'HealthCheckSpec',
  'HealthChecker',
  'InstanceCounters',
  'InstanceRow',
  'Logger',
  'ManagedBalancers',
  'ManagerError',
  'ManagerErrorCode',
  'ManagerOptions',
  'ManagerRouter',
  'ManagerSnapshot',
  'MemberOptions',
  'MemoryStore',
  'MetricsHandler',
  'MetricsOptions',
  'MetricsRegistry',
  'MetricsSource',
  'NextFunction',
  'ObserveError',
  'ObserveErrorCode',
  'OutlierDetector',
  'OutlierOptions',
  'OutlierSpec',
  'Outcome',
  'PersistedBalancer',
  'PersistedWorker',
  'RandomSource',
  'RedisStore',
  'RedisStoreError',
  'RedisStoreErrorCode',
  'RedisStoreOptions',
  'RequestEvent',
  'RequestTrace',
  'RequestTracer',
  'RequestTracing',
  'RequestContext',
  'Scheduler',
  'SchedulerContext',
  'SchedulerFactory',
  'Selection',
  'SharedStateStore',
  'SharedWorkerState',
  'SlowStartOptions',
  'SlowStartSpec',
  'StateStore',
  'StatusLetter',
  'StickyHit',
  'StickyOptions',
  'StoreError',
  'StoreErrorCode',
  'WORKER_EVENTS',
  'Worker',
  'WorkerEdit',
  'WorkerEvent',
  'WorkerEventName',
  'WorkerEvents',
  'WorkerSnapshot',
  'WorkerStateEvent',
  'WorkerTlsOptions',
  'TracingOptions',
  'AuditEvent',
  'balancer',
  'clusterOf',
  'defineScheduler',
  'drainWorker',
  'errorDocs',
  'fromApacheConfig',
  'getScheduler',
  'healthOf',
  'isSharedStore',
  'isUsableStatus',
  'listSchedulers',
  'managerRouter',
  'metricsHandler',
  'onWorkerEvents',
  'registerScheduler',
  'resolveSticky',
  'selectWorker',
  'statusLetters',
  'statusWords',
  'traceRequests',
  'watchHealth',
].sort();

/** What a scheduler keeps about a worker: its own business, never part of Worker's type. */
const SCHEDULER_STATE = /ledger|slot|heap|credit|observer|scheduler/i;

let emitDir: string;
let program: ts.Program;
let entry: ts.SourceFile;

function parseConfig(file: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, file),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    },
  );
  assert.ok(parsed);
  return parsed;
}

before(() => {
  emitDir = mkdtempSync(join(tmpdir(), 'epb-dts-'));
  const build = parseConfig('tsconfig.build.json');
  const emitted = ts
    .createProgram(build.fileNames, {
      ...build.options,
      outDir: emitDir,
      emitDeclarationOnly: true,
      declarationMap: false,
      sourceMap: false,
    })
    .emit();
  assert.deepEqual(
    emitted.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    [],
  );
  program = ts.createProgram([join(emitDir, 'index.d.ts')], {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  });
  entry = program.getSourceFile(join(emitDir, 'index.d.ts'))!;
});

after(() => {
  rmSync(emitDir, { recursive: true, force: true });
});

describe('the published declarations', () => {
  it('strip internals in both builds', () => {
    assert.equal(parseConfig('tsconfig.build.json').options.stripInternal, true);
    assert.equal(parseConfig('tsconfig.cjs.json').options.stripInternal, true);
  });

  it('type-check on their own, internals stripped', () => {
    // Only the emitted files are checked: node's own types are not ours to check.
    const problems = program
      .getSourceFiles()
      .filter((f) => f.fileName.startsWith(emitDir))
      .flatMap((f) => program.getSemanticDiagnostics(f))
      .map((d) => `${d.file!.fileName.slice(emitDir.length)}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    assert.deepEqual(problems, []);
  });

  it('export exactly the public names', () => {
    const checker = program.getTypeChecker();
    const names = checker.getExportsOfModule(checker.getSymbolAtLocation(entry)!).map((s) => s.name);
    assert.deepEqual(names.sort(), PUBLIC);
  });

  it('give Worker no scheduler state', () => {
    const checker = program.getTypeChecker();
    const worker = checker.getExportsOfModule(checker.getSymbolAtLocation(entry)!).find((s) => s.name === 'Worker')!;
    const declared = checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(worker));
    const members = checker.getPropertiesOfType(declared).map((p) => {
      const type = checker.typeToString(checker.getTypeOfSymbol(p));
      return `${p.name}: ${type}`;
    });
    assert.ok(
      members.some((m) => m.startsWith('lbfactor: number')),
      'Worker was read',
    );
    const leaked = members.filter((m) => SCHEDULER_STATE.test(m));
    assert.deepEqual(leaked, []);
  });
});
