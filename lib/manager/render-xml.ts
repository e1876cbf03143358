import type { BalancerSnapshot, ManagerSnapshot, WorkerSnapshot } from './types.js';
import { escapeXml } from './escape.js';
import { seconds } from './format.js';

/**
 * Apache 2.4's `?xml=1` document, element for element, plus each balancer's nonce as Apache trunk
 * has it. Unlike Apache every value is escaped, and `timeout` ends its line.
 */
export function renderXml(snap: ManagerSnapshot): string {
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<httpd:manager xmlns:httpd="http://httpd.apache.org">',
    '  <httpd:balancers>',
  ];
  for (const b of snap.balancers) out.push(...balancerXml(b));
  out.push('  </httpd:balancers>', '</httpd:manager>', '');
  return out.join('\n');
}

function el(indent: number, name: string, value: unknown): string {
  return `${' '.repeat(indent)}<httpd:${name}>${escapeXml(value)}</httpd:${name}>`;
}

function onOff(v: boolean): string {
  return v ? 'On' : 'Off';
}

function balancerXml(b: BalancerSnapshot): string[] {
  const lines = ['    <httpd:balancer>', el(6, 'name', b.id)];
  if (b.nonce !== undefined) lines.push(el(6, 'nonce', b.nonce));
  // Apache writes the sticky-related fields only for a sticky balancer.
  if (b.stickysession !== null)
    lines.push(el(6, 'stickysession', b.stickysession), el(6, 'nofailover', onOff(b.nofailover)));
  lines.push(
    el(6, 'timeout', seconds(b.timeoutMs)),
    el(6, 'maxattempts', b.maxattempts),
    el(6, 'lbmethod', b.lbmethod),
  );
  if (b.stickysession !== null) lines.push(el(6, 'scolonpathdelim', onOff(b.scolonpathdelim)));
  lines.push('      <httpd:workers>');
  for (const w of b.workers) lines.push(...workerXml(w));
  lines.push('      </httpd:workers>', '    </httpd:balancer>');
  return lines;
}

function workerXml(w: WorkerSnapshot): string[] {
  const lf = w.loadfactor.toFixed(2);
  const fields: [string, unknown][] = [
    ['name', w.name],
    ['scheme', w.scheme],
    ['hostname', w.hostname],
    ['loadfactor', lf],
    ['port', w.port],
    ['min', 0],
    ['smax', w.max],
    ['max', w.max],
    ['ttl', 0],
    ['timeout', seconds(w.timeoutMs)],
    // Apache's words, each followed by a space ("Init Ok ").
    ['status', `${w.statusText} `],
    ...(!w.flags.E || w.lastError === null ? [] : ([['error_time', w.lastError]] as [string, unknown][])),
    ['retries', w.retries],
    ['lbstatus', w.lbstatus],
    ['loadfactor', lf],
    ['transferred', w.transferred],
    ['read', w.read],
    ['elected', w.elected],
    ['route', w.route],
    ['redirect', w.redirect],
    ['busy', w.busy],
    ['lbset', w.lbset],
    ['retry', seconds(w.retryMs)],
    ['connectiontimeout', seconds(w.connectTimeoutMs)],
  ];
  return ['        <httpd:worker>', ...fields.map(([k, v]) => el(10, k, v)), '        </httpd:worker>'];
}
