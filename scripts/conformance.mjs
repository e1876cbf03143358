#!/usr/bin/env node
// Replays the scenarios recorded from Apache httpd (test/conformance/) against the library and prints,
// per scenario, "same" or the differences from Apache's recording:
//
//   npm run conformance                      every scenario
//   npm run conformance -- sticky failover   only scenarios whose name contains "sticky" or "failover"
//
// Compared: status, answering member, attempts, the URL and forwarding headers the backend saw, the
// balancer's context, the manager's counters and the health-check traffic. sticky-path-param differs
// on purpose (docs/differences-from-apache.md); test/conformance/conformance.test.ts pins how.
import { register } from 'tsx/esm/api';

register();
const { scenarioNames } = await import('../test/conformance/scenario.ts');
const { recording, replayAgainstLibrary } = await import('../test/conformance/run.ts');
const { compare, formatDifferences } = await import('../test/conformance/compare.ts');

const filters = process.argv.slice(2);
const all = scenarioNames();
const chosen = filters.length ? all.filter((n) => filters.some((f) => n.includes(f))) : all;
if (chosen.length === 0) {
  console.error(`conformance: no scenario matches ${filters.join(', ')} (have: ${all.join(', ')})`);
  process.exit(2);
}
let same = 0;
for (const name of chosen) {
  const expected = recording(name);
  const actual = await replayAgainstLibrary(name);
  const diffs = compare(expected, actual, { headers: true, env: true, manager: true, hc: true });
  if (diffs.length === 0) same++;
  console.log(formatDifferences(name, expected, actual, diffs));
}
console.log(`${same} same as Apache, ${chosen.length - same} different`);
process.exit(same === chosen.length ? 0 : 1);
