// Checks the raw V8 coverage files of a run before their report can be trusted.
//
// c8 merges every process's V8 coverage by script URL, as byte ranges of the compiled script, and
// maps them back with one source map per URL. Two faults make that report wrong without any error:
//  - a test file whose process wrote no coverage (killed on a timeout, or aborted): its lines count as
//    never run;
//  - a source file compiled differently in some process under the same URL (say, loaded through
//    `require` as CommonJS instead of as an ES module): its ranges are merged with those of another
//    script and mapped through the wrong source map, which loses or invents coverage.
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The compiled form of a script in one process: its length and the hash of its source map. */
function formOf(script, sourceMaps) {
  const length = Math.max(0, ...script.functions.map((f) => f.ranges[0]?.endOffset ?? 0));
  const map = sourceMaps?.[script.url]?.data;
  const hash = map ? createHash('sha1').update(JSON.stringify(map)).digest('hex').slice(0, 12) : 'no map';
  return `${length} bytes, map ${hash}`;
}

/**
 * Problems found in the V8 coverage files in `tempDir` of a run of `testFiles` (paths relative to
 * `root`); only scripts under `sourceDir` (a directory of `root`) are compared. Empty when all is well.
 */
export function checkCoverage(tempDir, root, testFiles, sourceDir) {
  const sourcePrefix = pathToFileURL(join(root, sourceDir)).href + '/';
  const testUrls = new Map(testFiles.map((f) => [pathToFileURL(join(root, f)).href, f]));
  const seen = new Set();
  const forms = new Map(); // url → form → names of the processes that compiled it so
  const problems = [];
  for (const name of readdirSync(tempDir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const { result, 'source-map-cache': sourceMaps } = JSON.parse(readFileSync(join(tempDir, name), 'utf8'));
    const scripts = result ?? [];
    const test = scripts.map((s) => testUrls.get(s.url)).find((f) => f !== undefined);
    const process = test ?? name;
    if (test !== undefined) seen.add(test);
    const inProcess = new Set();
    for (const script of scripts) {
      if (!script.url.startsWith(sourcePrefix)) continue;
      const file = script.url.slice(sourcePrefix.length - sourceDir.length - 1);
      if (inProcess.has(script.url)) problems.push(`${file} was loaded twice in the process of ${process}`);
      inProcess.add(script.url);
      const byForm = forms.get(file) ?? new Map();
      forms.set(file, byForm);
      const form = formOf(script, sourceMaps);
      byForm.set(form, [...(byForm.get(form) ?? []), process]);
    }
  }
  for (const [file, byForm] of forms) {
    if (byForm.size < 2) continue;
    const ways = [...byForm].map(([form, who]) => `${form} in ${who.length} process(es), e.g. ${who[0]}`);
    problems.push(`${file} was compiled in ${byForm.size} different forms: ${ways.join('; ')}`);
  }
  for (const f of testFiles) if (!seen.has(f)) problems.push(`${f} wrote no coverage (killed or aborted?)`);
  return problems;
}
