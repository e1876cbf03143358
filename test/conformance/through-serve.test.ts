/**
 * Every recorded scenario served by `express-proxy-balancer serve --apache` from the very httpd.conf
 * its Apache recording ran with (httpd/, generated alongside the recordings) gives the results the
 * configured library gives (conformance.test.ts): Apache's, response headers and balancer context
 * included, with the one deliberate difference differing in exactly the same way.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { compare, formatDifferences, type CompareOptions } from './compare.js';
import { recording, replayAgainstLibrary } from './run.js';
import { scenarioNames } from './scenario.js';
import { HTTPD_DIR, replayThroughServe } from './via-serve.js';

const ALL: CompareOptions = { headers: true, env: true, manager: true, hc: true };
const DELIBERATE = new Set(['sticky-path-param']);
const MANAGER_WARNING =
  /^.*httpd\.conf:\d+: SetHandler: the manager is mounted at \/balancer-manager; its access rules are not carried over: put authentication in front of it$/;

describe("conformance: serve --apache of each recording's httpd.conf", { concurrency: 4 }, () => {
  const names = scenarioNames();

  it('ships one httpd.conf per recording', () => {
    assert.deepEqual(fs.readdirSync(HTTPD_DIR).sort(), names.map((n) => `${n}.conf`).sort());
  });

  for (const name of names) {
    it(name, async () => {
      const expected = recording(name);
      const served = await replayThroughServe(name);
      assert.equal(served.exitCode, 0);
      // The only thing not carried over is the manager's access rules (there are none in these files).
      assert.equal(served.err.length, 1, served.err.join('\n'));
      assert.match(served.err[0]!, MANAGER_WARNING);
      const actual = served.observations;
      const diffs = compare(expected, actual, ALL);
      if (DELIBERATE.has(name)) {
        const library = await replayAgainstLibrary(name);
        assert.deepEqual(diffs, compare(expected, library, ALL));
      } else {
        assert.deepEqual(diffs, [], formatDifferences(name, expected, actual, diffs));
      }
      assert.equal(actual.observations.length, expected.observations.length);
      // compare() skips the context where one side has none: it must be there wherever Apache's was.
      assert.deepEqual(
        actual.observations.map((o) => o.balancerEnv !== null),
        expected.observations.map((o) => o.balancerEnv !== null),
      );
    });
  }
});
