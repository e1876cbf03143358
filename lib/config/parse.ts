import { ConfigError } from '../errors.js';
import { isStatusLetter, bitOf } from '../model/status.js';
import type { Duration } from './options.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds from a Duration; throws a ConfigError naming `field`. */
export function parseDuration(field: string, value: Duration, min = 0, max = 86_400_000): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i.exec(value);
    if (!m)
      throw new ConfigError(field, value, 'is not a duration: use milliseconds (60000) or a unit ("60s", "500ms")');
    ms = Number(m[1]) * (UNITS[m[2]!.toLowerCase()] ?? 1);
  } else {
    throw new ConfigError(field, value, 'is not a duration: use milliseconds (60000) or a unit ("60s", "500ms")');
  }
  if (!Number.isFinite(ms) || ms < min || ms > max) {
    throw new ConfigError(field, value, `is not in ${min}..${max} ms`);
  }
  return Math.round(ms);
}

/** Apache keeps loadfactor as integer hundredths; we round (Apache truncates 1.15 to 1.14). */
export function parseLoadfactor(field: string, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 1 || n > 100) {
    throw new ConfigError(field, value, 'is not in 1..100');
  }
  const hundredths = Math.round(n * 100);
  if (Math.abs(hundredths - n * 100) > 1e-6) {
    throw new ConfigError(field, value, 'has more than two decimals (1..100, e.g. 1.25)');
  }
  return hundredths;
}

export function parseInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(field, value, `is not an integer in ${min}..${max}`);
  }
  return value;
}

export function parseBoolean(field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'On' || value === 'on') return true;
  if (value === 'Off' || value === 'off') return false;
  throw new ConfigError(field, value, 'is not a boolean (true/false or "On"/"Off")');
}

/** Route, redirect and sticky names: printable, no separators that break cookies or URLs, < 64 chars like Apache. */
export function parseToken(field: string, value: unknown, maxLength = 63): string {
  if (typeof value !== 'string' || value.length > maxLength || !/^[\x21-\x7e]*$/.test(value) || /[;,|=]/.test(value)) {
    throw new ConfigError(
      field,
      value,
      `is not a token of at most ${maxLength} visible ASCII characters without ; , | =`,
    );
  }
  return value;
}

/** Apache status syntax: "+H", "-E", "+D +S", "DH" (set), letters case-insensitive. Returns the bits to set. */
export function parseStatus(field: string, value: unknown): number {
  if (typeof value !== 'string') throw new ConfigError(field, value, 'is not a status string such as "+H" or "+D +S"');
  let bits = 0;
  let set = true;
  for (const raw of value.replace(/\s+/g, '')) {
    if (raw === '+') set = true;
    else if (raw === '-') set = false;
    else {
      const ch = raw.toUpperCase();
      if (!isStatusLetter(ch) || ch === 'C') {
        throw new ConfigError(field, value, 'uses a letter other than D S I H R N E (Apache status flags)');
      }
      bits = set ? bits | bitOf(ch) : bits & ~bitOf(ch);
    }
  }
  return bits;
}

/** One of a fixed set of strings (config values that arrive untyped from JavaScript or JSON). */
export function parseOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(
      field,
      value,
      `is not ${allowed
        .map((a) => JSON.stringify(a))
        .join(', ')
        .replace(/, ([^,]*)$/, ' or $1')}`,
    );
  }
  return value as T;
}

/** failonstatus: "500,503" or "500 503" or [500, 503]. */
export function parseStatusList(field: string, value: unknown): Set<number> {
  const items: unknown[] | null = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(/[\s,]+/).filter(Boolean)
      : null;
  if (!items) throw new ConfigError(field, value, 'is not a list of HTTP status codes');
  const out = new Set<number>();
  for (const item of items) {
    const n = typeof item === 'string' ? Number(item) : item;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 100 || n > 599) {
      throw new ConfigError(field, value, 'is not a list of HTTP status codes (100..599)');
    }
    out.add(n);
  }
  return out;
}
