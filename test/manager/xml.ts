/**
 * A tiny strict XML 1.0 reader for the tests: prolog, elements, attributes, text and the five
 * entities plus character references. Throws on anything not well-formed (mismatched or unclosed
 * tags, a raw "<" or "&" in text, characters XML 1.0 forbids, more than one root).
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** Outside XML 1.0's Char production: C0 controls other than tab, LF, CR; U+FFFE, U+FFFF. */
function forbidden(s: string): boolean {
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) return true;
  }
  return false;
}
const NAME = /^[A-Za-z_][\w.:-]*/;

function decode(raw: string, where: number): string {
  if (forbidden(raw)) throw new Error(`forbidden character near ${where}`);
  if (raw.includes('<')) throw new Error(`raw "<" near ${where}`);
  return raw.replace(/&([^;]*);|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`bare "&" near ${where}`);
    if (ref in ENTITIES) return ENTITIES[ref]!;
    const n = /^#x([0-9a-fA-F]+)$/.exec(ref)
      ? parseInt(ref.slice(2), 16)
      : /^#(\d+)$/.exec(ref)
        ? Number(ref.slice(1))
        : NaN;
    const ch = Number.isNaN(n) ? '' : String.fromCodePoint(n);
    if (ch === '' || forbidden(ch)) throw new Error(`bad reference &${ref}; near ${where}`);
    return ch;
  });
}

export function parseXml(xml: string): XmlElement {
  let i = 0;
  const prolog = /^<\?xml[^?]*\?>/.exec(xml);
  if (prolog) i = prolog[0].length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    if (stack.length > 0) stack[stack.length - 1]!.text += decode(text, i);
    else if (text.trim() !== '') throw new Error(`text outside the root near ${i}`);
    if (lt === -1) break;
    const gt = xml.indexOf('>', lt);
    if (gt === -1) throw new Error(`unclosed tag at ${lt}`);
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (open?.name !== tag.slice(1).trim()) throw new Error(`mismatched </${tag.slice(1)}> at ${lt}`);
      if (stack.length === 0) root = open;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const el = openTag(selfClosing ? tag.slice(0, -1) : tag, lt);
    if (stack.length === 0 && root) throw new Error('more than one root element');
    if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
    if (selfClosing) {
      if (stack.length === 0) root = el;
    } else stack.push(el);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

function openTag(tag: string, at: number): XmlElement {
  const name = NAME.exec(tag)?.[0];
  if (!name) throw new Error(`bad tag name at ${at}`);
  const attrs: Record<string, string> = {};
  let rest = tag.slice(name.length);
  for (;;) {
    rest = rest.replace(/^\s+/, '');
    if (rest === '') break;
    const m = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(rest);
    if (!m) throw new Error(`bad attribute in <${name}> at ${at}`);
    if (Object.hasOwn(attrs, m[1]!)) throw new Error(`duplicate attribute ${m[1]}`);
    attrs[m[1]!] = decode(m[3] ?? m[4] ?? '', at);
    rest = rest.slice(m[0].length);
  }
  return { name, attrs, children: [], text: '' };
}

/** Children with this name. */
export function all(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

export function one(el: XmlElement, name: string): XmlElement {
  const c = all(el, name)[0];
  if (!c) throw new Error(`no <${name}> in <${el.name}>`);
  return c;
}
