/** How one check ended. */
export interface CheckResult {
  ok: boolean;
  /** Short words for logs and events: "status 500", "connect failed: ECONNREFUSED", "timeout". */
  reason: string;
  status?: number;
}

export const passed = (reason: string, status?: number): CheckResult => ({
  ok: true,
  reason,
  ...(status && { status }),
});
export const failed = (reason: string, status?: number): CheckResult => ({
  ok: false,
  reason,
  ...(status && { status }),
});
