/**
 * Key and field names. Everything that comes from configuration or the manager (balancer names,
 * worker URLs, added URLs, instance ids) is encoded before it goes into a key, so a name can never
 * add a key segment (":"), a glob character or a hash tag of its own ("{…}"), nor reach another fleet's keys.
 */

/** Percent-encodes every UTF-8 byte outside [A-Za-z0-9._-] ("%3A" for ":"): reversible, glob- and colon-free. */
export function encodeName(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9._-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeName(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

/** A prefix names one fleet; it is configuration, but checked like a name all the same. */
export const PREFIX_RE = /^[A-Za-z0-9._:-]{1,64}$/;
/** Instance ids take part in tie-breaks (compared byte by byte) and go into messages. */
export const INSTANCE_RE = /^[A-Za-z0-9._-]{1,64}$/;

export interface Keys {
  /** Hash: "s" (settings), "w:<worker>", "a:<added URL>" → record. */
  admin(balancer: string): string;
  /** Hash: "<worker>" → record of its health state. */
  runtime(balancer: string): string;
  /** Hash: "<instance>" → that instance's counters (JSON). */
  counters(balancer: string): string;
  /** The one pub/sub channel of the fleet. */
  readonly channel: string;
}

/**
 * A balancer's keys share one hash tag ("{b:<name>}"), so on Redis Cluster they live in one slot
 * and a script or transaction touching them stays on one node.
 */
export function keysFor(prefix: string): Keys {
  const b = (balancer: string): string => `${prefix}{b:${encodeName(balancer)}}`;
  return {
    admin: (balancer) => `${b(balancer)}:admin`,
    runtime: (balancer) => `${b(balancer)}:rt`,
    counters: (balancer) => `${b(balancer)}:ctr`,
    channel: `${prefix}events`,
  };
}

export const SETTINGS_FIELD = 's';
export const workerField = (name: string): string => `w:${encodeName(name)}`;
export const addedField = (url: string): string => `a:${encodeName(url)}`;
export const runtimeField = (worker: string): string => encodeName(worker);
