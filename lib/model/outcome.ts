/**
 * How far an attempt got: `not-connected` (nothing reached the worker), `sent` (connected: the
 * worker may have seen the request), `response-started` (the worker's response head arrived),
 * `completed` (the whole response reached the client).
 */
export type Phase = 'not-connected' | 'sent' | 'response-started' | 'completed';

/**
 * When an attempt reached each point, in milliseconds of the balancer's clock since the attempt
 * began: `connect` (a connection ready to carry the request, a reused one at once), `firstByte`
 * (the response head), `total` (the attempt ended). A point not reached is undefined.
 */
export interface Timings {
  connect: number | undefined;
  firstByte: number | undefined;
  total: number;
}

/** The timings of an attempt that ended before it began. */
export const NO_TIMINGS: Timings = Object.freeze({ connect: undefined, firstByte: undefined, total: 0 });

/**
 * What every outcome reports besides its kind: how far it got, when, and the bytes exchanged with
 * the worker (for bytraffic and the manager): `transferred` is request line + headers + body out,
 * `read` is status line + body in.
 */
export interface Measures {
  phase: Phase;
  timings: Timings;
  transferred: number;
  read: number;
}

/** How one attempt ended. */
export type Outcome = Measures &
  (
    | /** Never connected: refused, unreachable, connect timeout, TLS handshake. Nothing was sent. */
      { kind: 'connect-failed'; error: Error }
      /** A reused keep-alive socket was closed under us before any response byte. */
    | { kind: 'stale-socket'; error: Error }
    /** Connected, but no response within the response timeout. */
    | { kind: 'timeout'; error: Error }
    /**
     * Connected, then reset, closed or garbage before a response; or a response that cannot be passed
     * on (a head Node refuses, a 101 to a plain request, a cut before any of its body reached the client).
     */
    | { kind: 'failed'; error: Error }
    /** The client went away before a response was sent to it. */
    | { kind: 'client-aborted' }
    /** The whole response reached the client. */
    | { kind: 'completed'; status: number }
    /** A response started but did not finish (worker died or timed out mid-body, or the client left). */
    | { kind: 'truncated'; status: number; timedOut: boolean }
  );
