/** Apache's apr_strfsize as the manager's To/From columns show it: "428 ", "3.1K", "12M". */
export function humanSize(bytes: number): string {
  if (bytes < 973) return `${bytes} `;
  const units = ['K', 'M', 'G', 'T', 'P'];
  let v = bytes;
  for (const u of units) {
    v /= 1024;
    if (v < 973 || u === 'P') return v < 9.95 ? `${v.toFixed(1)}${u}` : `${Math.round(v)}${u}`;
  }
  return `${bytes} `;
}

/** Milliseconds as seconds without trailing zeros ("0", "1.5"). */
export function seconds(ms: number): string {
  return String(ms / 1000);
}
