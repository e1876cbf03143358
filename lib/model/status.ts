/**
 * The one table of worker status flags: bit, Apache letter, the word Apache's manager shows.
 * Order is Apache's display order (proxy_wstat_tbl). Admin flags (D S I H R N) are set by config or
 * the manager; E (in error) and C (health check failed) are health state.
 */
export const FLAGS = [
  { letter: 'I', bit: 1 << 0, word: 'Ign', name: 'ignore errors' },
  { letter: 'N', bit: 1 << 1, word: 'Drn', name: 'draining' },
  { letter: 'D', bit: 1 << 2, word: 'Dis', name: 'disabled' },
  { letter: 'S', bit: 1 << 3, word: 'Stop', name: 'stopped' },
  { letter: 'E', bit: 1 << 4, word: 'Err', name: 'in error' },
  { letter: 'H', bit: 1 << 5, word: 'Stby', name: 'hot standby' },
  { letter: 'R', bit: 1 << 6, word: 'Spar', name: 'hot spare' },
  { letter: 'C', bit: 1 << 7, word: 'HcFl', name: 'health check failed' },
] as const;

export type StatusLetter = (typeof FLAGS)[number]['letter'];

const BIT = Object.fromEntries(FLAGS.map((f) => [f.letter, f.bit])) as Record<StatusLetter, number>;

export const IGNORE_ERRORS = BIT.I;
export const DRAIN = BIT.N;
export const DISABLED = BIT.D;
export const STOPPED = BIT.S;
export const IN_ERROR = BIT.E;
export const HOT_STANDBY = BIT.H;
export const HOT_SPARE = BIT.R;
export const HC_FAIL = BIT.C;

/** Apache's PROXY_WORKER_NOT_USABLE_BITMAP: N, H, R and I do not make a worker unusable. */
const NOT_USABLE = DISABLED | STOPPED | IN_ERROR | HC_FAIL;

export function isUsableStatus(status: number): boolean {
  return (status & NOT_USABLE) === 0;
}

export function isStatusLetter(ch: string): ch is StatusLetter {
  return Object.hasOwn(BIT, ch);
}

export function bitOf(letter: StatusLetter): number {
  return BIT[letter];
}

/** "DH" for a disabled hot standby; letters in table order. */
export function statusLetters(status: number): string {
  let out = '';
  for (const f of FLAGS) if (status & f.bit) out += f.letter;
  return out;
}

/** Apache's manager wording, e.g. "Init Ok", "Init Err", "Init Stby Ok", "Init HcFl". */
export function statusWords(status: number): string {
  const words = ['Init'];
  for (const f of FLAGS) if (status & f.bit) words.push(f.word);
  if (isUsableStatus(status)) words.push('Ok');
  return words.join(' ');
}
