/**
 * How one attempt ended. `transferred`/`read` are the bytes exchanged with the worker (for
 * bytraffic and the manager): request line + headers + body out, status line + body in.
 */
export type Outcome =
  /** Never connected: refused, unreachable, connect timeout, TLS handshake. Nothing was sent. */
  | { kind: 'connect-failed'; error: Error; transferred: number; read: number }
  /** A reused keep-alive socket was closed under us before any response byte. */
  | { kind: 'stale-socket'; error: Error; transferred: number; read: number }
  /** Connected, but no response within the response timeout. */
  | { kind: 'timeout'; error: Error; transferred: number; read: number }
  /**
   * Connected, then reset, closed or garbage before a response; or a response that cannot be passed
   * on (a head Node refuses, a 101 to a plain request, a cut before any of its body reached the client).
   */
  | { kind: 'failed'; error: Error; transferred: number; read: number }
  /** The client went away before a response was sent to it. */
  | { kind: 'client-aborted'; transferred: number; read: number }
  /** The whole response reached the client. */
  | { kind: 'completed'; status: number; transferred: number; read: number }
  /** A response started but did not finish (worker died or timed out mid-body, or the client left). */
  | { kind: 'truncated'; status: number; timedOut: boolean; transferred: number; read: number };

/** When an attempt's response head came (undefined: none) and when it ended, in ms after it was sent. */
export interface AttemptTiming {
  headMs: number | undefined;
  endMs: number;
}
