import type { Worker } from '../core/worker.js';
import type { Outcome } from '../model/outcome.js';

import type { AttemptObservation } from '../schedulers/types.js';
import type { Selector } from './selector.js';
import { currentElection } from './election.js';

/**
 * Apache's default updatelbstatus for a sticky hit: every usable worker is credited its lbfactor
 * and the routed one is debited the total, so sticky and balanced traffic stay proportional.
 */
export function chargeStickyHit(sel: Selector, routed: Worker): void {
  // The usable workers are the cached group plus `others`, so a scheduler keeping lazy credits over
  // the group credits it at once; the others are credited here, one by one (no structure holds them).
  const s = sel.scheduler;
  const c = s.chargeSticky === undefined ? undefined : currentElection(sel);
  if (c?.group !== undefined && s.chargeSticky!(c.group, routed, c.usableTotal)) {
    for (const w of c.others) w.lbstatus += w.lbfactor;
    return;
  }
  // Worker by worker: whatever the scheduler keeps elsewhere goes back into the workers first.
  s.settle?.();
  let total = 0;
  for (const w of sel.workers) {
    if (w.isUsable()) {
      w.lbstatus += w.lbfactor;
      total += w.lbfactor;
    }
  }
  routed.lbstatus -= total;
}

/**
 * What an ended attempt tells a scheduler that learns from latency: the response head's latency, or
 * a failure (with the time it took). A client that left, or a reused socket closed under us, says
 * nothing about the worker.
 */
export function observation(outcome: Outcome): AttemptObservation | undefined {
  switch (outcome.kind) {
    case 'completed':
    case 'truncated':
      return outcome.timings.firstByte === undefined
        ? undefined
        : { latencyMs: outcome.timings.firstByte, failed: false };
    case 'connect-failed':
    case 'timeout':
    case 'failed':
      return { latencyMs: outcome.timings.total, failed: true };
    default:
      return undefined;
  }
}
