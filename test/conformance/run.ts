/** One scenario end to end: backends, the library configured like Apache, the replay, the recording. */
import fs from 'node:fs';
import path from 'node:path';
import type { ObservationFile } from './replay.js';
import { replay, startBackends } from './replay.js';
import { EXPECTED_DIR, loadScenario } from './scenario.js';
import { serveScenario } from './serve.js';

export function recording(name: string): ObservationFile {
  return JSON.parse(fs.readFileSync(path.join(EXPECTED_DIR, `${name}.json`), 'utf8')) as ObservationFile;
}

export async function replayAgainstLibrary(name: string): Promise<ObservationFile> {
  const scenario = loadScenario(name);
  const { backends, ports } = await startBackends(scenario);
  try {
    const served = await serveScenario(scenario, ports);
    try {
      return await replay({ scenario, baseUrl: served.baseUrl, managerUrl: served.managerUrl, backends, ports });
    } finally {
      await served.close();
    }
  } finally {
    await backends.close();
  }
}
