/**
 * One scenario served by `express-proxy-balancer serve --apache` from the httpd.conf Apache ran it
 * with (httpd/<scenario>.conf), the members' ports moved to this run's backends and Listen to a free
 * port. The command runs in this process (run() with its own output and stop signal), so it is the
 * same code as the bin, minus argv and process signals.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../lib/cli/run.js';
import type { ObservationFile } from './replay.js';
import { replay, startBackends } from './replay.js';
import { loadScenario, type Scenario } from './scenario.js';

export const HTTPD_DIR = path.join(import.meta.dirname, 'httpd');

/** The recorded httpd.conf with this run's backend ports and a free Listen port. */
export function httpdConf(s: Scenario, ports: ReadonlyMap<string, number>): string {
  let text = fs.readFileSync(path.join(HTTPD_DIR, `${s.name}.conf`), 'utf8');
  for (const m of s.balancer.members) {
    const recorded = `http://127.0.0.1:${m.port}"`;
    if (m.configured !== false && !text.includes(recorded)) throw new Error(`${s.name}.conf has no member ${recorded}`);
    text = text.replaceAll(recorded, `http://127.0.0.1:${ports.get(m.id)}"`);
  }
  return text.replace(/^Listen .*$/m, 'Listen 127.0.0.1:0');
}

export interface ServedByCommand {
  observations: ObservationFile;
  /** What the command printed (warnings on err). */
  out: string[];
  err: string[];
  exitCode: number;
}

export async function replayThroughServe(name: string): Promise<ServedByCommand> {
  const scenario = loadScenario(name);
  const { backends, ports } = await startBackends(scenario);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `epb-httpd-${name}-`));
  const file = path.join(dir, 'httpd.conf');
  fs.writeFileSync(file, httpdConf(scenario, ports));
  const out: string[] = [];
  const err: string[] = [];
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  let listening!: (url: string) => void;
  const ready = new Promise<string>((resolve) => (listening = resolve));
  const exit = run(['serve', '--apache', file], {
    out(line) {
      out.push(line);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) listening(m[1]!);
    },
    err: (line) => err.push(line),
    stopSignal: () => stopped,
  });
  try {
    const baseUrl = await Promise.race([
      ready,
      exit.then((code) => Promise.reject(new Error(`serve exited ${code}: ${err.join('\n')}`))),
    ]);
    const observations = await replay({
      scenario,
      baseUrl,
      managerUrl: `${baseUrl}/balancer-manager`,
      backends,
      ports,
    });
    stop('SIGTERM');
    return { observations, out, err, exitCode: await exit };
  } finally {
    stop('SIGTERM');
    await exit.catch(() => 1);
    await backends.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
