/**
 * Apache's values in our units: a bare number of seconds becomes "Ns", Apache's own units
 * (ms, s, mi, h) keep their meaning; On/Off become booleans; numbers become numbers. A value these
 * do not recognise is passed through as written, so validation names it with its line.
 */

const APACHE_UNITS: Record<string, string> = { ms: 'ms', s: 's', mi: 'm', h: 'h' };

/** An Apache time ("30", "500ms", "2mi") as a Duration string ("30s", "500ms", "2m"). */
export function apacheDuration(value: string): string {
  const m = /^(\d+)(ms|s|mi|h)?$/i.exec(value.trim());
  if (!m) return value;
  return `${m[1]}${APACHE_UNITS[(m[2] ?? 's').toLowerCase()]}`;
}

/** "On"/"Off" in any letter case as a boolean; anything else as written. */
export function apacheBoolean(value: string): boolean | string {
  if (/^on$/i.test(value)) return true;
  if (/^off$/i.test(value)) return false;
  return value;
}

/** A decimal number as a number; anything else as written. */
export function apacheNumber(value: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

/** Status letters this library takes in a member's `status`. */
const OURS = new Set(['D', 'S', 'I', 'H', 'R', 'N', 'E']);

/**
 * Apache's status=… ("+H", "-D", "+DH", "D"): the letters switched on, in our "+D +H" form, and the
 * letters that cannot be carried over. "-X" switches a flag off, which at start-up it already is.
 */
export function apacheStatus(value: string): { status: string | undefined; dropped: string[] } {
  const on: string[] = [];
  const dropped: string[] = [];
  let adding = true;
  for (const c of value.toUpperCase()) {
    if (c === '+') adding = true;
    else if (c === '-') adding = false;
    else if (/\s/.test(c)) continue;
    else if (!adding) continue;
    else if (OURS.has(c)) {
      if (!on.includes(c)) on.push(c);
    } else dropped.push(c);
  }
  return { status: on.length ? on.map((c) => `+${c}`).join(' ') : undefined, dropped };
}

/** "key=value" split at the first "="; a value in matching quotes loses them. */
export function keyValue(word: string): [string, string] | undefined {
  const eq = word.indexOf('=');
  if (eq <= 0) return undefined;
  let value = word.slice(eq + 1);
  const q = value.charAt(0);
  if (value.length >= 2 && (q === '"' || q === "'") && value.endsWith(q)) value = value.slice(1, -1);
  return [word.slice(0, eq).toLowerCase(), value];
}
