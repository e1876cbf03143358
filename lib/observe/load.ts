import type { CodeOf } from '../errors.js';

export type ObserveErrorCode = CodeOf<'ObserveError'>;

/** An optional peer dependency that metrics or traces need is not installed. */
export class ObserveError extends Error {
  readonly code: ObserveErrorCode;
  constructor(code: ObserveErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ObserveError';
    this.code = code;
  }
}

/**
 * Imported on first use only: neither package is needed by those who do not use it.
 * @internal
 */
export async function loadPromClient(): Promise<typeof import('prom-client')> {
  try {
    return await import('prom-client');
  } catch (err) {
    throw new ObserveError(
      'ERR_PROM_CLIENT_MISSING',
      'metricsHandler needs the optional peer dependency "prom-client" (^15): npm install prom-client',
      { cause: err },
    );
  }
}

/** @internal */
export async function loadOtelApi(): Promise<typeof import('@opentelemetry/api')> {
  try {
    return await import('@opentelemetry/api');
  } catch (err) {
    throw new ObserveError(
      'ERR_OTEL_MISSING',
      'traceRequests needs the optional peer dependency "@opentelemetry/api" (^1.9): npm install @opentelemetry/api',
      { cause: err },
    );
  }
}
