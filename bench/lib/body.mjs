// The fixed response bodies every backend returns: exactly 100 bytes naming the port (so the
// harness can see which backend answered), or 64 KiB for any path containing "big64k".
export const BODY_BYTES = 100;
export const BIG_BYTES = 65536;
export const BIG_PATH = '/big64k';
export function backendBody(port) {
  const head = `backend ${port} `;
  return head + 'x'.repeat(BODY_BYTES - head.length - 1) + '\n';
}
export function bigBody() {
  return 'y'.repeat(BIG_BYTES - 1) + '\n';
}
