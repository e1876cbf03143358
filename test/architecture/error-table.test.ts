/**
 * ERRORS (lib/errors.ts) is the one table of error codes: every code the library uses is in it, and
 * wherever the code pairs a literal code with a literal status, the status is the table's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ERRORS, ERROR_CODES, errorDocs, type CodeOf } from '../../lib/errors.js';
import type { ManagerErrorCode } from '../../lib/manager/types.js';
import type { StoreErrorCode } from '../../lib/store/file-store.js';
import type { RedisStoreErrorCode } from '../../lib/store/redis-store.js';
import { listTs } from './imports.js';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));
const CODE = /^ERR_[A-Z0-9_]+$/;

interface Use {
  file: string;
  code: string;
  /** The literal status given with the code, when there is one. */
  status?: number;
}

/** Where each argument sits in the calls that pair a code with a status. */
const PAIRS: Record<string, { code: number; status: number; absent?: number }> = {
  BalancerError: { code: 0, status: 2, absent: 0 },
  ManagerError: { code: 0, status: 1 },
  respondError: { code: 3, status: 4 },
};

function uses(file: string, text: string): Use[] {
  const out: Use[] = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) && CODE.test(node.text)) out.push({ file, code: node.text });
    if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression)) {
      const pair = PAIRS[node.expression.text];
      const args = node.arguments ?? ts.factory.createNodeArray();
      const code = pair && args[pair.code];
      if (pair && code && ts.isStringLiteralLike(code)) {
        const status = args[pair.status];
        if (status === undefined && pair.absent !== undefined) out.push({ file, code: code.text, status: pair.absent });
        else if (status && ts.isNumericLiteral(status))
          out.push({ file, code: code.text, status: Number(status.text) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const all = listTs(LIB).flatMap((f) => uses(f, readFileSync(LIB + f, 'utf8')));
const table: Record<string, { class: string; status: readonly number[] }> = ERRORS;

describe('the error table', () => {
  it('holds every error code lib/ uses', () => {
    assert.ok(all.length > 40, 'the scan found the codes in lib/');
    const unknown = all.filter((u) => !(u.code in ERRORS)).map((u) => `${u.file}: ${u.code}`);
    assert.deepEqual(unknown, [], 'add these codes to ERRORS in lib/errors.ts (and a section to docs/errors.md)');
  });

  it('gives each code the status lib/ answers with', () => {
    const paired = all.filter((u) => u.status !== undefined);
    assert.ok(paired.some((u) => u.code === 'ERR_MANAGER_BODY' && u.status === 413));
    assert.ok(paired.some((u) => u.code === 'ERR_BAD_PATH' && u.status === 400));
    const wrong = paired
      .filter((u) => {
        const want = table[u.code]?.status ?? [];
        return u.status === 0 ? want.length !== 0 : !want.includes(u.status!);
      })
      .map((u) => `${u.file}: ${u.code} with ${u.status}, table says [${table[u.code]?.status.join(', ')}]`);
    assert.deepEqual(wrong, []);
  });

  it('keeps ERROR_CODES to the BalancerError codes', () => {
    const balancer = Object.keys(ERRORS).filter((c) => table[c]!.class === 'BalancerError');
    assert.deepEqual(Object.keys(ERROR_CODES), balancer);
    assert.equal(ERROR_CODES.ERR_NO_WORKER, 'no usable worker could take the request (503)');
  });

  it('types each class by its rows', () => {
    const manager: ManagerErrorCode[] = ['ERR_MANAGER_INVALID', 'ERR_MANAGER_INTERNAL'];
    const store: StoreErrorCode[] = ['ERR_STORE_CORRUPT', 'ERR_STORE_IO'];
    const redis: RedisStoreErrorCode[] = ['ERR_REDIS_MISSING', 'ERR_REDIS_UNAVAILABLE', 'ERR_REDIS_OPTIONS'];
    // @ts-expect-error a BalancerError code is not a ManagerError code
    const mixed: CodeOf<'ManagerError'> = 'ERR_NO_WORKER';
    assert.deepEqual(
      [...manager, ...store, ...redis, mixed].map((c) => table[c]!.class),
      [
        'ManagerError',
        'ManagerError',
        'StoreError',
        'StoreError',
        ...(Array(3) as string[]).fill('RedisStoreError'),
        'BalancerError',
      ],
    );
  });

  it('links each code to its section', () => {
    assert.equal(errorDocs('ERR_REDIS_MISSING'), 'docs/errors.md#err_redis_missing');
  });
});
