import { spawn } from 'node:child_process';

export interface Ran {
  stdout: string;
  stderr: string;
}

/**
 * The environment for the commands: ours without what `npm test` adds for its own scripts (above
 * all npm_config_local_prefix, which would make `npm install` in a consumer project install into
 * this repository), keeping the settings that say where the registry and the cache are.
 */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = /^npm_config_(cache|registry|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile|ca)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.test(k)) continue;
    // INIT_CWD is npm's too; NODE_V8_COVERAGE (c8) would record every npm and tsc run for nothing.
    if (k === 'INIT_CWD' || k === 'NODE_V8_COVERAGE') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** The last lines of a command's output, for a failure message. */
function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Runs a command to completion and resolves with its output; rejects, naming the command and
 * showing the end of its output, when it exits non-zero or outlives `limitMs` (a hang guard).
 */
export function run(
  cmd: string,
  args: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
  limitMs = 60_000,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const guard = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', (err) => {
      clearTimeout(guard);
      reject(new Error(`could not start ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (code === 0) return resolve({ stdout, stderr });
      const how = signal ? `was killed by ${signal} (still running after ${limitMs / 1000} s?)` : `exited with ${code}`;
      const err = new Error(`${cmd} ${args.join(' ')} (in ${cwd}) ${how}\n${tail(stderr + stdout)}`) as Error & Ran;
      err.stdout = stdout;
      err.stderr = stderr;
      reject(err);
    });
  });
}

const NETWORK =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOCACHE|ENOTCACHED|E5\d\d)\b/;

/**
 * Runs npm, preferring the cache to the registry. A failure that comes from the registry being
 * out of reach says so first: the install test needs it for the consumers' packages.
 */
export async function npm(args: string[], cwd: string): Promise<Ran> {
  const env = {
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  try {
    return await run('npm', args, cwd, env, 900_000);
  } catch (err) {
    const text = (err as Error).message;
    if (NETWORK.test(text)) {
      throw new Error(`npm could not reach the registry, which this test needs for the consumers' packages:\n${text}`, {
        cause: err,
      });
    }
    throw err;
  }
}
