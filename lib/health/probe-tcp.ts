import { errorCode, openSocket, type CheckTarget } from './connect.js';
import { failed, passed, type CheckResult } from './result.js';

/** TCP check: connect, then close without sending anything (Apache hcmethod=TCP). */
export function probeTcp(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
  return new Promise((resolve) => {
    const { socket, readyEvent } = openSocket(target, false);
    const done = (r: CheckResult): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = (): void => done(failed('timeout while connecting'));
    socket.once(readyEvent, () => done(passed('connected')));
    socket.once('error', (err) => done(failed(`connect failed: ${errorCode(err)}`)));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
