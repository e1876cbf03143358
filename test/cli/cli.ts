/** Runs the express-proxy-balancer command from the sources, as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Kills every child still running (a test that failed before stopping its server). */
export function stopAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export function start(args: readonly string[], cwd?: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd !== undefined && { cwd }),
  });
  children.add(child);
  return child;
}

export function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

export function cli(args: readonly string[], cwd?: string): Promise<Finished> {
  return finished(start(args, cwd));
}

/** A serving child, once it said where it listens; `done` settles when it exits. */
export async function serving(
  args: readonly string[],
): Promise<{ url: string; child: ChildProcess; done: Promise<Finished> }> {
  const child = start(args);
  const done = finished(child);
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = /listening on (http:\/\/\S+?)(?:\s|$)/.exec(seen);
      if (m) resolve(m[1]!);
    });
    void done.then((f) => reject(new Error(`exited ${f.code}: ${f.stderr}`)));
  });
  return { url, child, done };
}
