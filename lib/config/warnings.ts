import type { BalancerConfig } from './options.js';

/** Durations where Apache's unit is seconds: a small number here was most likely meant as seconds. */
const MEMBER_DURATIONS = ['retry', 'timeout', 'connectiontimeout', 'hcinterval'] as const;

function secondsLike(field: string, value: unknown): string[] {
  if (typeof value !== 'number' || !(value > 0 && value < 1000)) return [];
  return [
    `${field}: ${value} is ${value} ms (a number is milliseconds; Apache's ${field.replace(/^.*\./, '')} is in seconds): ` +
      `write "${value}s" if you meant seconds, or "${value}ms" to keep it without this warning`,
  ];
}

/**
 * Valid values that are probably mistakes, one message each: numeric durations under a second on
 * the options Apache counts in seconds (`retry: 60` is 60 ms). 0 means "none" and strings carry
 * their unit, so neither is warned about. Runs after validation: the shapes are known to be right.
 */
export function durationWarnings(config: BalancerConfig): string[] {
  const out: string[] = [];
  config.balancers.forEach((b, i) => {
    out.push(...secondsLike(`balancers[${i}].timeout`, b.timeout));
    b.members.forEach((m, j) => {
      for (const key of MEMBER_DURATIONS) out.push(...secondsLike(`balancers[${i}].members[${j}].${key}`, m[key]));
    });
  });
  return out;
}
