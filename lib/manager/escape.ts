/**
 * Escaping for the three renderings (CVE-2007-6421, CVE-2012-4558: every value from config, the
 * manager or the request is escaped). Control characters cannot be written in XML 1.0 at all and
 * are invisible in HTML, so they are shown as a visible "\xHH" in both.
 */
const MARKUP: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** C0 controls, DEL and C1 controls. */
export function isControl(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

function visibleControls(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    out += isControl(code) ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

/** For HTML text and double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return visibleControls(String(value)).replace(/[&<>"']/g, (c) => MARKUP[c]!);
}

/** For XML text (same entity set; XML knows &#39;). */
export const escapeXml = escapeHtml;

const JSON_UNSAFE: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** JSON that stays inert even if a browser sniffs it as HTML or it is embedded in a script; DEL and C1 escaped too. */
export function safeJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(
    /[<>&\u2028\u2029\u007f-\u009f]/g,
    (c) => JSON_UNSAFE[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
