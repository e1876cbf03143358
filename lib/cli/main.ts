#!/usr/bin/env node
/** The `express-proxy-balancer` command (see args.ts for its usage). */
import { run } from './run.js';

function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const on = (signal: NodeJS.Signals): void => {
      // A second signal does not wait for the requests in flight.
      if (stopping) process.exit(1);
      stopping = true;
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

void run(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  stopSignal,
}).then((code) => {
  process.exitCode = code;
});
