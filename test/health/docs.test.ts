/** docs/health.md documents every health option (member hc*, outlier.*, slowstart.*) and every event. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HEALTH_MEMBER_KEYS, OUTLIER_KEYS, SLOWSTART_KEYS } from '../../lib/config/health.js';
import { WORKER_EVENTS } from '../../lib/health/events.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/health.md', import.meta.url)), 'utf8');

/** First cells of the Markdown table rows, without backticks. */
const rows = new Set(
  doc
    .split('\n')
    .map((l) => /^\|\s*`([^`]+)`\s*\|/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined),
);

describe('docs/health.md', () => {
  it('has a table row for every option', () => {
    const options = [
      ...HEALTH_MEMBER_KEYS,
      ...[...OUTLIER_KEYS].map((k) => `outlier.${k}`),
      ...[...SLOWSTART_KEYS].map((k) => `slowstart.${k}`),
    ];
    assert.deepEqual(
      options.filter((o) => !rows.has(o)),
      [],
    );
  });

  it('has a table row for every worker event', () => {
    assert.deepEqual(
      WORKER_EVENTS.filter((e) => !rows.has(e)),
      [],
    );
  });
});
