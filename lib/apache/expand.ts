/**
 * From text to a tree of directives, as Apache reads it at start-up: Include/IncludeOptional read
 * in place, Define/UnDefine and ${VAR} applied, <IfModule>/<IfDefine> kept or dropped. What is left
 * is the sections (<VirtualHost>, <Proxy>, <Location>, …) and their directives.
 */
import fs from 'node:fs';
import path from 'node:path';
import { logicalLines, sourceError, splitWords, type SourceLine } from './lexer.js';
import { hasWildcard, includeFiles } from './glob.js';
import type { ApacheWarning } from './types.js';

export interface Node {
  /** Directive or section name as written. */
  name: string;
  args: string[];
  /** The arguments as written, before splitting into words. */
  raw: string;
  file: string;
  line: number;
  /** Present on sections. */
  children?: Node[];
}

const MAX_DEPTH = 16;
const MAX_FILES = 512;
const MAX_NODES = 100_000;

interface State {
  defines: Map<string, string>;
  modules: Set<string>;
  anyLoadModule: boolean;
  baseDir: string;
  files: number;
  nodes: number;
  warn: (w: ApacheWarning) => void;
}

/** Modules compiled into every httpd. */
const BUILT_IN = ['core.c', 'http_core.c', 'mod_so.c', 'core_module', 'http_module', 'so_module'];

export function expand(text: string, file: string, baseDir: string, warn: (w: ApacheWarning) => void): Node[] {
  const state: State = {
    defines: new Map(),
    modules: new Set(BUILT_IN),
    anyLoadModule: false,
    baseDir,
    files: 1,
    nodes: 0,
    warn,
  };
  return expandFile(text, file, state, 0);
}

interface Frame {
  name: string;
  src: SourceLine;
  /** False inside an <IfModule>/<IfDefine> that does not hold: its content is only counted, not read. */
  active: boolean;
  /** Where this frame's directives go. */
  into: Node[];
}

function expandFile(text: string, file: string, state: State, depth: number): Node[] {
  const root: Node[] = [];
  const stack: Frame[] = [];
  for (const src of logicalLines(text, file)) {
    const top = stack[stack.length - 1];
    const active = top ? top.active : true;
    const into = top ? top.into : root;
    const line = active ? substitute(src, state) : src.text;
    if (line.startsWith('</')) {
      const name = line.slice(2).replace(/>\s*$/, '').trim();
      if (top?.name.toLowerCase() !== name.toLowerCase()) {
        throw sourceError(
          src,
          line,
          top
            ? `closes <${name}> but <${top.name}> (line ${top.src.line}) is open`
            : `closes <${name}>, which is not open`,
        );
      }
      stack.pop();
      continue;
    }
    if (line.startsWith('<')) {
      if (!/>\s*$/.test(line)) throw sourceError(src, line, 'opens a section without a closing ">"');
      const words = active ? splitWords(src, line.slice(1).replace(/>\s*$/, '')) : [line.slice(1).split(/[\s>]/)[0]!];
      const name = words[0] ?? '';
      if (name === '') throw sourceError(src, line, 'opens a section without a name');
      stack.push(openSection(src, name, words.slice(1), active, into, state));
      continue;
    }
    if (!active) continue;
    const words = splitWords(src, line);
    const name = words[0]!;
    directive({ ...src, text: line }, name, words.slice(1), into, state, depth);
  }
  const open = stack[stack.length - 1];
  if (open) throw sourceError(open.src, `<${open.name}>`, `is never closed in ${file}`);
  return root;
}

function openSection(
  src: SourceLine,
  name: string,
  args: string[],
  active: boolean,
  into: Node[],
  state: State,
): Frame {
  const lower = name.toLowerCase();
  if (!active) return { name, src, active: false, into };
  if (lower === 'ifmodule') return { name, src, active: holds(args[0], (m) => hasModule(state, m)), into };
  if (lower === 'ifdefine') return { name, src, active: holds(args[0], (d) => state.defines.has(d)), into };
  if (lower === 'ifversion' || lower === 'ifdirective' || lower === 'ifsection' || lower === 'iffile') {
    // Apache 2.4 can hold these; which side it takes depends on the server, so keep the content.
    return { name, src, active: true, into };
  }
  const node: Node = { name, args, raw: args.join(' '), file: src.file, line: src.line, children: [] };
  count(state, src);
  into.push(node);
  return { name, src, active: true, into: node.children! };
}

function holds(arg: string | undefined, test: (name: string) => boolean): boolean {
  if (arg === undefined) return false;
  return arg.startsWith('!') ? !test(arg.slice(1)) : test(arg);
}

/** A module counts as loaded once a LoadModule named it; a file without any LoadModule is a fragment of a larger one, where every module is taken as loaded. */
function hasModule(state: State, name: string): boolean {
  return !state.anyLoadModule || state.modules.has(name) || state.modules.has(name.replace(/\.c$/, '.so'));
}

function count(state: State, src: SourceLine): void {
  if (++state.nodes > MAX_NODES)
    throw sourceError(src, '', `is past ${MAX_NODES} directives, more than a configuration holds`);
}

function directive(src: SourceLine, name: string, args: string[], into: Node[], state: State, depth: number): void {
  switch (name.toLowerCase()) {
    case 'define':
      if (args[0] === undefined) throw sourceError(src, src.text, 'names no variable');
      state.defines.set(args[0], args[1] ?? '');
      return;
    case 'undefine':
      if (args[0] !== undefined) state.defines.delete(args[0]);
      return;
    case 'loadmodule':
      state.anyLoadModule = true;
      if (args[0] !== undefined) state.modules.add(args[0]);
      if (args[1] !== undefined) state.modules.add(path.basename(args[1]).replace(/\.so$/, '.c'));
      return;
    case 'include':
    case 'includeoptional':
      for (const node of include(src, name, args[0], state, depth)) into.push(node);
      return;
    default:
      count(state, src);
      into.push({
        name,
        args,
        raw: src.text.slice(src.text.indexOf(name) + name.length).trim(),
        file: src.file,
        line: src.line,
      });
  }
}

function include(src: SourceLine, name: string, arg: string | undefined, state: State, depth: number): Node[] {
  const optional = name.toLowerCase() === 'includeoptional';
  if (arg === undefined) throw sourceError(src, src.text, 'names no file');
  if (depth >= MAX_DEPTH)
    throw sourceError(src, src.text, `nests includes deeper than ${MAX_DEPTH} (does a file include itself?)`);
  const pattern = path.resolve(state.baseDir, arg);
  const files = includeFiles(pattern, MAX_FILES);
  if (files.length === 0) {
    if (optional) return [];
    throw sourceError(
      src,
      src.text,
      hasWildcard(arg) ? `matches no file under ${state.baseDir}` : `names a file that does not exist (${pattern})`,
    );
  }
  const out: Node[] = [];
  for (const f of files) {
    if (++state.files > MAX_FILES) throw sourceError(src, src.text, `reads more than ${MAX_FILES} files`);
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (err) {
      if (optional) continue;
      throw sourceError(src, src.text, `cannot read ${f}: ${(err as Error).message}`);
    }
    out.push(...expandFile(text, f, state, depth + 1));
  }
  return out;
}

const VAR = /\$\{([^}\s]*)\}/g;

/** ${VAR} replaced by its Define; an unknown one stays as written, with a warning, like Apache. */
function substitute(src: SourceLine, state: State): string {
  if (!src.text.includes('${')) return src.text;
  return src.text.replace(VAR, (whole, name: string) => {
    const value = state.defines.get(name);
    if (value !== undefined) return value;
    state.warn({
      file: src.file,
      line: src.line,
      directive: src.text.split(/\s/)[0]!,
      message: `\${${name}} is not defined (Define ${name} …); left as written`,
    });
    return whole;
  });
}
