/** One module, lib/debug.ts, declares the debug namespaces: no other file of lib/ imports `debug`. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { log } from '../../lib/debug.js';
import { importSpecifiers, listTs } from './imports.js';

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url));

describe('debug namespaces', () => {
  it('are declared in lib/debug.ts only', () => {
    const declarers = listTs(LIB).filter((f) => importSpecifiers(f, readFileSync(LIB + f, 'utf8')).includes('debug'));
    assert.deepEqual(declarers, ['debug.ts']);
  });

  it('all sit under express-proxy-balancer:', () => {
    assert.deepEqual(
      Object.values(log).map((d) => d.namespace),
      [
        'config',
        'select',
        'route',
        'forward',
        'state',
        'health',
        'manager',
        'store',
        'cluster',
        'observe',
        'discovery',
      ].map((area) => `express-proxy-balancer:${area}`),
    );
  });
});
