/** Where the balancer tells the application what it must know: a subset of `console`. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  error(message: string): void;
}

export type LogLevel = keyof Logger;

const PREFIX = 'express-proxy-balancer: ';

/**
 * One balancer()'s voice: every line prefixed, each misconfiguration said once (keyed by a fixed
 * condition name, so clients cannot grow the set), and a logger that throws never breaks a request.
 * The debug namespaces (lib/debug.ts) stay for tracing; this is for what a user must see.
 */
export class Notices {
  readonly #logger: Logger | undefined;
  readonly #said = new Set<string>();

  constructor(logger: Logger | false) {
    this.#logger = logger === false ? undefined : logger;
  }

  say(level: LogLevel, message: string): void {
    const logger = this.#logger;
    if (!logger) return;
    try {
      logger[level](PREFIX + message);
    } catch {
      // The application's logger failed: nothing better can be done with the message.
    }
  }

  /** Says `message` unless something was said under `key` already. */
  once(level: LogLevel, key: string, message: string): void {
    if (this.#said.has(key)) return;
    this.#said.add(key);
    this.say(level, message);
  }
}
