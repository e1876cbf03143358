/**
 * Apache's configuration syntax, line by line: comments are lines whose first visible character is
 * "#", a line ending in "\" goes on on the next one, and words are split like ap_getword_conf does
 * (a word starting with a quote runs to the matching quote, where a backslash escapes that quote).
 */
import { ConfigError } from '../errors.js';

export interface SourceLine {
  file: string;
  /** Number of the first physical line. */
  line: number;
  text: string;
}

/** The logical lines of `text`: continuations joined, comments and blank lines dropped. */
export function logicalLines(text: string, file: string): SourceLine[] {
  const out: SourceLine[] = [];
  const physical = text.split(/\r?\n|\r/);
  let start = 0;
  let pending = '';
  for (let i = 0; i < physical.length; i++) {
    const trimmed = physical[i]!.replace(/[ \t\f\v]+$/, '');
    if (pending === '') start = i + 1;
    if (trimmed.endsWith('\\')) {
      pending += trimmed.slice(0, -1);
      continue;
    }
    const whole = (pending + trimmed).trim();
    pending = '';
    if (whole !== '' && !whole.startsWith('#')) out.push({ file, line: start, text: whole });
  }
  const last = pending.trim();
  if (last !== '' && !last.startsWith('#')) out.push({ file, line: start, text: last });
  return out;
}

/** Throws the error every importer failure is: a ConfigError naming the file and line. */
export function sourceError(at: { file: string; line: number }, text: string, why: string): ConfigError {
  return new ConfigError(`${at.file}:${at.line}`, text.length > 200 ? `${text.slice(0, 200)}…` : text, why);
}

/** The words of one logical line; quotes are removed, backslashes before a quote are dropped. */
export function splitWords(src: SourceLine, text = src.text): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const q = text[i];
    if (q === '"' || q === "'") {
      let word = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== q; j++) {
        if (text[j] === '\\' && text[j + 1] === q) j++;
        word += text.charAt(j);
      }
      if (j >= text.length) throw sourceError(src, text, `has a ${q} that is never closed`);
      words.push(word);
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/\s/.test(text[j]!)) j++;
      words.push(text.slice(i, j));
      i = j;
    }
  }
  return words;
}
