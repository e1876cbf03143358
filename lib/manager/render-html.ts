import type { BalancerSnapshot, ManagerSnapshot, WorkerSnapshot } from './types.js';
import type { Fields } from './body.js';
import { escapeHtml as h, safeJson } from './escape.js';
import { humanSize, seconds } from './format.js';
import { HC_METHODS } from '../config/health-spec.js';

/** What the page shows besides the snapshot. Every value here is escaped on output. */
export interface PageContext {
  /** The request's Host header: shown in the heading, used for nothing else. */
  host: string | undefined;
  /** Path the forms post to (the page's own path). */
  action: string;
  /** CSP nonce of the one <style> element. */
  styleNonce: string;
  /** The balancer (and worker) whose edit form is shown. */
  selected?: { balancer: string; worker?: string };
  /** A refused change: shown above the form, which keeps the posted values. */
  error?: { message: string; field: string | null };
  posted?: Fields;
  notice?: string;
  /** Each worker's five-minute sparklines (inline SVG built from numbers), for the live column. */
  sparks?: (balancer: string, worker: string) => string;
}

const FLAG_LABELS = [
  ['I', 'Ignore Errors'],
  ['N', 'Draining Mode'],
  ['D', 'Disabled'],
  ['H', 'Hot Standby'],
  ['R', 'Hot Spare'],
  ['S', 'Stopped'],
  ['C', 'Health Check Failed'],
] as const;

const CSS = `
:root{color-scheme:light;--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--head:#f3f5f9;--accent:#2456c7;--ok:#17733a;--bad:#b42318;--warn:#a15c00}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#fafbfc}
header{padding:18px 28px;background:#fff;border-bottom:1px solid var(--line)}
h1{margin:0;font-size:20px;font-weight:600}
.meta{margin:4px 0 0;color:var(--muted)}
main{padding:20px 28px;max-width:1400px}
section.balancer{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 18px;margin:0 0 20px}
h2{margin:0 0 12px;font-size:16px;font-weight:600}
h3{margin:18px 0 8px;font-size:15px;font-weight:600}
a{color:var(--accent);text-decoration:none}
a:hover,a:focus{text-decoration:underline}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:0 0 14px;font-variant-numeric:tabular-nums}
th,td{border:1px solid var(--line);padding:5px 9px;text-align:left;white-space:nowrap}
th{background:var(--head);font-weight:600;font-size:13px}
td.num{text-align:right}
tr.sel td{background:#eef3ff}
.st{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;background:#e7f5ec;color:var(--ok)}
.st.bad{background:#fdecea;color:var(--bad)}
.st.drn{background:#fff4e0;color:var(--warn)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;color:var(--muted)}
form{border-top:1px solid var(--line);padding-top:10px;max-width:760px}
fieldset{border:0;padding:0;margin:0}
.grid{display:grid;grid-template-columns:190px 1fr;gap:8px 14px;align-items:center}
.grid label.k{color:var(--muted)}
input[type=text],select{font:inherit;padding:4px 7px;border:1px solid #b9c1cf;border-radius:5px;min-width:220px}
input.invalid{border-color:var(--bad);outline:1px solid var(--bad)}
.flags{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:6px 12px}
.flag{border:1px solid var(--line);border-radius:6px;padding:5px 8px}
.flag span{display:block;font-weight:600;font-size:12px;margin-bottom:2px}
.flag label{margin-right:10px}
button{font:inherit;font-weight:600;padding:6px 16px;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;margin-top:12px}
.msg{padding:9px 12px;border-radius:6px;margin:0 0 14px}
.msg.err{background:#fdecea;color:var(--bad);border:1px solid #f5c2bd}
.msg.ok{background:#e7f5ec;color:var(--ok);border:1px solid #b9e3c6}
.hint{color:var(--muted);font-size:13px}
.spark{display:inline-block;vertical-align:middle;margin-right:6px}
.spark polyline{fill:none;stroke-width:1.5}
.spark .req{stroke:var(--accent)}.spark .err{stroke:var(--bad)}.spark .p50{stroke:var(--ok)}.spark .p99{stroke:var(--warn)}
tr.changed td{background:#fff4e0}
`;

/**
 * The live view: updates from <mount>/live (Server-Sent Events) refresh each worker's status, counters
 * and sparklines, and mark a changed status for a few seconds. Without JavaScript the page is as served.
 */
const LIVE_SCRIPT = `(() => {
  const es = new EventSource(LIVE_URL);
  const cell = (row, k) => row.querySelector('td[data-k="' + k + '"]');
  const badge = (td, w) => {
    const span = document.createElement('span');
    span.className = !w.usable ? 'st bad' : w.status.includes('N') ? 'st drn' : 'st';
    span.textContent = w.statusText;
    td.replaceChildren(span);
    if (w.status !== '') {
      const code = document.createElement('code');
      code.title = 'status letters';
      code.textContent = w.status;
      td.append(' ', code);
    }
  };
  es.onmessage = (m) => {
    const d = JSON.parse(m.data);
    for (const b of d.balancers) {
      const section = document.getElementById('balancer-' + b.name);
      if (!section) continue;
      const rows = new Map([...section.querySelectorAll('table.workers tr[data-worker]')].map((r) => [r.dataset.worker, r]));
      for (const w of b.workers) {
        const row = rows.get(w.name);
        if (!row) continue;
        if (row.dataset.status !== w.status) {
          row.dataset.status = w.status;
          badge(cell(row, 'status'), w);
          row.classList.add('changed');
          setTimeout(() => row.classList.remove('changed'), 4000);
        }
        cell(row, 'elected').textContent = String(w.elected);
        cell(row, 'busy').textContent = String(w.busy);
        cell(row, 'spark').innerHTML = w.spark;
      }
    }
    document.body.dataset.liveAt = d.generatedAt;
  };
})();`;

/** The manager page: Apache's tables per balancer, an edit form for the selected balancer or worker. */
export function renderPage(snap: ManagerSnapshot, ctx: PageContext): string {
  const host = ctx.host ? ` for ${h(ctx.host)}` : '';
  const sections = snap.balancers.map((b) => balancerSection(snap, b, ctx)).join('\n');
  const empty = snap.balancers.length === 0 ? '<p class="hint">No balancers are configured.</p>' : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Balancer Manager</title><style nonce="${h(ctx.styleNonce)}">${CSS}</style></head>
<body><header><h1>Load Balancer Manager${host}</h1>
<p class="meta">${metaLine(snap)}</p></header>
<main>
${messages(ctx)}${empty}${sections}
</main><script nonce="${h(ctx.styleNonce)}">const LIVE_URL = ${safeJson(liveUrl(ctx.action))};
${LIVE_SCRIPT}</script></body></html>
`;
}

/** The live view's path next to the page's own. */
export function liveUrl(action: string): string {
  return `${action.replace(/\/+$/, '')}/live`;
}

function metaLine(snap: ManagerSnapshot): string {
  const persisted = snap.persisted
    ? 'Balancer changes will be persisted on restart.'
    : 'Balancer changes will NOT be persisted on restart.';
  const mode = snap.readOnly ? ' Read-only: changes are disabled.' : '';
  const c = snap.cluster;
  const shared = c
    ? ` Shared by ${c.instances.length} instance${c.instances.length === 1 ? '' : 's'} (this one: <code>${h(c.instance)}</code>); ${
        c.connected ? 'state store connected' : 'state store UNAVAILABLE: serving from the last known state'
      }${c.store === undefined ? '' : ` (<code>${h(c.store)}</code>)`}.`
    : '';
  return `${persisted}${mode}${shared} Generated ${h(snap.generatedAt)}.`;
}

function messages(ctx: PageContext): string {
  let out = '';
  if (ctx.error) out += `<p class="msg err" role="alert">${h(ctx.error.message)}</p>\n`;
  if (ctx.notice) out += `<p class="msg ok" role="status">${h(ctx.notice)}</p>\n`;
  return out;
}

function link(snap: ManagerSnapshot, query: string, label: string): string {
  return snap.readOnly ? h(label) : `<a href="?${h(query)}">${h(label)}</a>`;
}

function balancerQuery(b: BalancerSnapshot): string {
  return `b=${encodeURIComponent(b.name)}`;
}

function workerQuery(b: BalancerSnapshot, w: WorkerSnapshot): string {
  return `${balancerQuery(b)}&w=${encodeURIComponent(w.name)}`;
}

function balancerSection(snap: ManagerSnapshot, b: BalancerSnapshot, ctx: PageContext): string {
  const sel = ctx.selected?.balancer === b.name ? ctx.selected : undefined;
  const selWorker = sel?.worker === undefined ? undefined : b.workers.find((w) => w.name === sel.worker);
  let form = '';
  if (!snap.readOnly && sel && selWorker) form = workerForm(b, selWorker, ctx);
  else if (!snap.readOnly && sel && sel.worker === undefined) form = balancerForm(snap, b, ctx);
  return `<section class="balancer" id="balancer-${h(b.name)}">
<h2>LoadBalancer Status for ${link(snap, balancerQuery(b), b.id)}</h2>
${settingsTable(b)}
${workersTable(snap, b, selWorker, ctx)}
${discoveryTable(b)}${instancesTable(b)}${form}</section>`;
}

function settingsTable(b: BalancerSnapshot): string {
  const cells = [
    `${b.members.max} [${b.members.used} Used]`,
    b.stickysession ?? '(None)',
    b.nofailover ? 'On' : 'Off',
    seconds(b.timeoutMs),
    String(b.maxattempts),
    b.lbmethod,
    `${b.mount} \u2192 ${b.path}`,
    'Yes',
  ];
  const heads = [
    'MaxMembers',
    'StickySession',
    'DisableFailover',
    'Timeout',
    'FailoverAttempts',
    'Method',
    'Path',
    'Active',
  ];
  return `<div class="scroll"><table class="settings"><tr>${heads.map((x) => `<th>${x}</th>`).join('')}</tr>
<tr>${cells.map((c) => `<td>${h(c)}</td>`).join('')}</tr></table></div>`;
}

const WORKER_HEADS = [
  'Worker URL',
  'Route',
  'RouteRedir',
  'Factor',
  'Set',
  'Status',
  'Elected',
  'Busy',
  'Load',
  'To',
  'From',
  'Errors',
  'Last error',
  'HC Method',
  'HC Interval',
  'Passes',
  'Fails',
  'HC uri',
  'HC Expect',
  'Last check',
  'Last 5 min',
];

function workersTable(
  snap: ManagerSnapshot,
  b: BalancerSnapshot,
  selected: WorkerSnapshot | undefined,
  ctx: PageContext,
): string {
  const rows = b.workers.map((w) => workerRow(snap, b, w, w === selected, ctx)).join('\n');
  return `<div class="scroll"><table class="workers"><tr>${WORKER_HEADS.map((x) => `<th>${x}</th>`).join('')}</tr>
${rows}</table></div>`;
}

function statusBadge(w: WorkerSnapshot): string {
  const cls = !w.usable ? 'st bad' : w.flags.N ? 'st drn' : 'st';
  const letters = w.status === '' ? '' : ` <code title="status letters">${h(w.status)}</code>`;
  return `<span class="${cls}">${h(w.statusText)}</span>${letters}`;
}

function workerRow(
  snap: ManagerSnapshot,
  b: BalancerSnapshot,
  w: WorkerSnapshot,
  selected: boolean,
  ctx: PageContext,
): string {
  const num = (v: unknown, k = ''): string => `<td class="num"${k ? ` data-k="${k}"` : ''}>${h(v)}</td>`;
  const bytes = (n: number): string => `<td class="num" title="${n} bytes">${h(humanSize(n))}</td>`;
  const spark = ctx.sparks?.(b.name, w.name) ?? '';
  const found =
    w.discovered === undefined ? '' : ` <small title="found in DNS: ${h(w.discovered)}">(discovered)</small>`;
  return `<tr data-worker="${h(w.name)}" data-status="${h(w.status)}"${selected ? ' class="sel"' : ''}><td>${link(
    snap,
    workerQuery(b, w),
    w.name,
  )}${found}</td><td>${h(w.route)}</td><td>${h(w.redirect)}</td>${num(w.loadfactor.toFixed(2))}${num(
    w.lbset,
  )}<td data-k="status">${statusBadge(w)}</td>${num(w.elected, 'elected')}${num(w.busy, 'busy')}${num(w.lbstatus)}${bytes(
    w.transferred,
  )}${bytes(w.read)}${num(w.errors)}<td>${h(w.lastError ?? '')}</td>${healthCells(w)}<td data-k="spark">${spark}</td></tr>`;
}

/** Apache's HC columns; "n (count)" is the setting and how far the current run has got. */
function healthCells(w: WorkerSnapshot): string {
  const c = w.healthCheck;
  if (!c) return `<td>NONE</td>${'<td></td>'.repeat(6)}`;
  const last = c.last
    ? `${c.last.ok ? 'passed' : 'failed'}: ${c.last.reason}${c.last.time ? ` (${c.last.time})` : ''}`
    : '';
  return `<td>${h(c.method)}</td><td class="num">${h(`${c.intervalMs} ms`)}</td><td class="num">${h(
    `${c.passes} (${c.passCount})`,
  )}</td><td class="num">${h(`${c.fails} (${c.failCount})`)}</td><td>${h(c.uri ?? '')}</td><td>${h(
    c.expect ?? '',
  )}</td><td>${h(last)}</td>`;
}

/** Members found in DNS: each group's name, state, last and next lookup, and its workers. */
function discoveryTable(b: BalancerSnapshot): string {
  if (!b.discovery || b.discovery.length === 0) return '';
  const rows = b.discovery.map(
    (g) =>
      `<tr><td>${h(g.kind.toUpperCase())} <code>${h(g.name)}</code></td><td>${h(g.state)}${
        g.lastError ? ` (${h(g.lastError)})` : ''
      }</td><td>${h(g.lastResolution ?? '-')}</td><td>${h(g.nextRefresh ?? '-')}</td><td>${h(g.workers.join(' '))}</td></tr>`,
  );
  const heads = ['Source', 'State', 'Last resolution', 'Next refresh', 'Workers'];
  return `<h3>Discovered members</h3><div class="scroll"><table class="discovery"><tr>${heads.map((x) => `<th>${x}</th>`).join('')}</tr>
${rows.join('\n')}</table></div>
`;
}

/** With a shared store: each instance's counters per worker (the workers table shows their sums). */
function instancesTable(b: BalancerSnapshot): string {
  const rows = b.workers.flatMap((w) =>
    (w.instances ?? []).map(
      (r) =>
        `<tr><td>${h(w.name)}</td><td><code>${h(r.instance)}</code>${r.self ? ' (this one)' : ''}</td><td class="num">${h(
          r.elected,
        )}</td><td class="num">${h(r.busy)}</td><td class="num" title="${r.transferred} bytes">${h(
          humanSize(r.transferred),
        )}</td><td class="num" title="${r.read} bytes">${h(humanSize(r.read))}</td><td>${h(r.updatedAt)}</td></tr>`,
    ),
  );
  if (rows.length === 0) return '';
  const heads = ['Worker URL', 'Instance', 'Elected', 'Busy', 'To', 'From', 'Updated'];
  return `<h3>Per instance</h3><div class="scroll"><table class="instances"><tr>${heads.map((x) => `<th>${x}</th>`).join('')}</tr>
${rows.join('\n')}</table></div>
`;
}

/** The posted value after a refused change, else the current one. */
function value(ctx: PageContext, field: string, current: string): string {
  const v = ctx.posted?.[field];
  return typeof v === 'string' ? v : current;
}

function input(ctx: PageContext, name: string, current: string, label: string, extra = ''): string {
  const bad = ctx.error?.field === name ? ' class="invalid" aria-invalid="true"' : '';
  return `<label class="k" for="${name}">${label}</label><input type="text" name="${name}" id="${name}" value="${h(
    value(ctx, name, current),
  )}"${bad}${extra}>`;
}

function radios(ctx: PageContext, name: string, on: boolean, label: string): string {
  const isOn = value(ctx, name, on ? '1' : '0') === '1';
  const radio = (v: '1' | '0', text: string, checked: boolean): string =>
    `<label><input type="radio" name="${name}" id="${name}${v}" value="${v}"${checked ? ' checked' : ''}> ${text}</label>`;
  return `<div class="flag"><span>${label}</span>${radio('1', 'On', isOn)}${radio('0', 'Off', !isOn)}</div>`;
}

function hidden(name: string, v: string): string {
  return `<input type="hidden" name="${name}" value="${h(v)}">`;
}

function formOpen(ctx: PageContext, title: string): string {
  return `<form method="post" action="${h(ctx.action)}" enctype="application/x-www-form-urlencoded">
<h3>${title}</h3><fieldset>`;
}

function workerForm(b: BalancerSnapshot, w: WorkerSnapshot, ctx: PageContext): string {
  const flags = FLAG_LABELS.map(([l, label]) => radios(ctx, `w_status_${l}`, w.flags[l], label)).join('');
  return `${formOpen(ctx, `Edit worker ${h(w.name)}`)}
<div class="grid">${input(ctx, 'w_lf', w.loadfactor.toFixed(2), 'Load factor (1\u2013100)', ' inputmode="decimal"')}
${input(ctx, 'w_ls', String(w.lbset), 'LB Set (0\u201399)', ' inputmode="numeric"')}
${input(ctx, 'w_wr', w.route, 'Route')}
${input(ctx, 'w_rr', w.redirect, 'Route Redirect')}</div>
<h3>Status</h3><div class="flags">${flags}</div>
${healthForm(w, ctx)}
${hidden('w', w.name)}${hidden('b', b.name)}${hidden('nonce', b.nonce ?? '')}
<button type="submit">Submit</button></fieldset></form>
`;
}

/** Apache's w_hm … w_he. Empty boxes change nothing; NONE turns the check off. */
function healthForm(w: WorkerSnapshot, ctx: PageContext): string {
  const c = w.healthCheck;
  const method = value(ctx, 'w_hm', c?.method ?? 'NONE');
  const options = HC_METHODS.map((m) => `<option value="${m}"${m === method ? ' selected' : ''}>${m}</option>`).join(
    '',
  );
  // hcuri is relative to the worker's base path, the column shows the whole target.
  const uri = c?.uri == null ? '' : c.uri.slice(new URL(w.name).pathname.replace(/\/+$/, '').length);
  return `<h3>Health check</h3><div class="grid"><label class="k" for="w_hm">HC Method</label><select name="w_hm" id="w_hm">${options}</select>
${input(ctx, 'w_hi', c ? String(c.intervalMs) : '', 'HC Interval (ms, or "30s")', ' inputmode="numeric"')}
${input(ctx, 'w_hp', c ? String(c.passes) : '', 'HC Passes', ' inputmode="numeric"')}
${input(ctx, 'w_hf', c ? String(c.fails) : '', 'HC Fails', ' inputmode="numeric"')}
${input(ctx, 'w_hu', uri, 'HC uri', ' placeholder="/health"')}
${input(ctx, 'w_he', c?.expect ?? '', 'HC Expect (statuses)', ' placeholder="200-399"')}</div>`;
}

function balancerForm(snap: ManagerSnapshot, b: BalancerSnapshot, ctx: PageContext): string {
  const lbm = value(ctx, 'b_lbm', b.lbmethod);
  const options = snap.schedulers
    .map((s) => `<option value="${h(s)}"${s === lbm ? ' selected' : ''}>${h(s)}</option>`)
    .join('');
  const add =
    b.members.free > 0
      ? `${input(ctx, 'b_nwrkr', '', `Add New Worker (${b.members.free} free)`, ' placeholder="http://host:port"')}
<label class="k" for="b_wyes">Are you sure?</label><span><input type="checkbox" name="b_wyes" id="b_wyes" value="1"> the new worker starts disabled</span>`
      : '';
  return `${formOpen(ctx, `Edit balancer ${h(b.id)}`)}
<div class="grid"><label class="k" for="b_lbm">LBmethod</label><select name="b_lbm" id="b_lbm">${options}</select>
${input(ctx, 'b_tmo', seconds(b.timeoutMs), 'Timeout (s, 0\u20137200)', ' inputmode="numeric"')}
${input(ctx, 'b_max', String(b.maxattempts), 'Failover Attempts (0\u201399)', ' inputmode="numeric"')}
<span class="k">Disable Failover</span>${radios(ctx, 'b_sforce', b.nofailover, 'nofailover')}
${input(ctx, 'b_ss', b.stickysession ?? '', 'Sticky Session', ' placeholder="COOKIE or COOKIE|URLPARAM; - to delete"')}
${input(ctx, 'b_hk', b.hashkey, 'Hash Key (hash)', ' placeholder="ip, path, uri, header:NAME, cookie:NAME, query:NAME"')}
${input(ctx, 'b_hbf', String(b.hashbalancefactor), 'Hash Balance Factor (%, 0 or 100\u201310000)', ' inputmode="numeric"')}
${input(ctx, 'b_p2cb', String(b.p2cbias), 'P2C Bias (0\u201310)', ' inputmode="decimal"')}
${input(ctx, 'b_ewd', String(b.ewmadecayMs), 'EWMA Decay (ms)', ' inputmode="numeric"')}
${input(ctx, 'b_pnc', String(b.panic), 'Panic Threshold (%, 0 = off)', ' inputmode="numeric"')}
${add}</div>
${hidden('b', b.name)}${hidden('nonce', b.nonce ?? '')}
<button type="submit">Submit</button></fieldset></form>
`;
}
