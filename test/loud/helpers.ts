import http from 'node:http';
import type { TestContext } from 'node:test';
import type { BalancerMiddleware } from '../../lib/index.js';
import type { Logger } from '../../lib/logger.js';
import { startUpstreams, stopAll, type Upstream } from '../support/upstreams.js';
import { listenProxy, type Proxy } from '../e2e/helpers/proxy.js';

/** A logger that keeps every line as "<level> <message>", in order. */
export class RecordingLogger implements Logger {
  readonly lines: string[] = [];
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

export async function upstreams(t: TestContext, ...names: string[]): Promise<Upstream[]> {
  const ups = await startUpstreams(...names);
  t.after(() => stopAll(ups));
  return ups;
}

/** Serves `listener` (an app, or a plain handler) on a loopback port until the test ends. */
export async function serve(t: TestContext, listener: http.RequestListener, mw: BalancerMiddleware): Promise<Proxy> {
  const p = await listenProxy(http.createServer(listener), mw);
  t.after(() => p.close());
  return p;
}
