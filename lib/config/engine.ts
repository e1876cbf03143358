import { parseOneOf } from './parse.js';

/**
 * The engine that forwards HTTP requests: `http-proxy` (http-proxy-3 over node:http, the default)
 * or `undici` (a keep-alive undici Pool per worker). WebSocket upgrades always use `http-proxy`.
 */
export type EngineName = 'http-proxy' | 'undici';

export const ENGINES: readonly EngineName[] = ['http-proxy', 'undici'];

let fallback: EngineName = 'http-proxy';

/**
 * The engine of configurations that name none: the test runner switches it to run the same suites
 * under each engine.
 * @internal
 */
export function setFallbackEngine(engine: EngineName): void {
  fallback = engine;
}

/** `value` as an engine name; `inherited` (or the fallback) when undefined. */
export function parseEngine(field: string, value: unknown, inherited?: EngineName): EngineName {
  if (value === undefined) return inherited ?? fallback;
  return parseOneOf(field, value, ENGINES);
}
