import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPage } from '../../lib/manager/render-html.js';
import { renderXml } from '../../lib/manager/render-xml.js';
import { escapeHtml, isControl, safeJson } from '../../lib/manager/escape.js';
import type { ManagerSnapshot } from '../../lib/index.js';
import { request } from '../support/http.js';
import { get, postForm, setup, withoutOwnScript, workerUrl, type Setup } from './helpers.js';
import { all, one, parseXml } from './xml.js';

/** Markup, both quotes, an entity-looking "&amp;", and C0, DEL and C1 control characters. */
const HOSTILE = `<script>alert("x")</script>'&amp;\u0001\u001b\u0000\u007f\u0085 end`;
/** What HTML and XML show for it: entities for markup, a visible \xHH for each control character. */
const SHOWN = `&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;amp;\\x01\\x1b\\x00\\x7f\\x85 end`;
const SHOWN_DECODED = `<script>alert("x")</script>'&amp;\\x01\\x1b\\x00\\x7f\\x85 end`;

/** The first control character other than LF and tab, if any. */
function firstControl(s: string): string | undefined {
  for (const ch of s) if (ch !== '\n' && ch !== '\t' && isControl(ch.charCodeAt(0))) return ch;
  return undefined;
}

function noRawControls(body: string, what: string): void {
  assert.equal(firstControl(body), undefined, `${what}: raw control character`);
}

/** Values the config validation would refuse, set behind its back: the renderers must hold anyway. */
function poison(s: Setup): void {
  const b = s.lb.balancers[0]!;
  const w = b.workers[0]!;
  w.route = HOSTILE;
  w.redirect = HOSTILE;
  (w as { name: string }).name = `http://127.0.0.1:1/${HOSTILE}`;
  b.sticky = { cookie: HOSTILE, param: HOSTILE };
  b.lbmethod = HOSTILE;
}

describe('hostile values in all three renderings (CVE-2007-6421, CVE-2012-4558)', () => {
  test('HTML: text and attribute values', async (t) => {
    const s = await setup(t);
    poison(s);
    const host = `evil"><script>alert(1)</script>'&`;
    for (const url of [s.manager, `${s.manager}?b=oracle`]) {
      const path = new URL(url).pathname + new URL(url).search;
      // A hostile Host is refused before anything is rendered; its echo in the refusal is escaped.
      const refused = await request(s.manager, path, { headers: { host } });
      assert.equal(refused.status, 403);
      assert.doesNotMatch(refused.body, /<script/i);
      const r = await request(s.manager, path);
      assert.equal(r.status, 200);
      assert.doesNotMatch(withoutOwnScript(r.body), /<script|"x"|'&amp;\\x01/i);
      noRawControls(r.body, url);
      assert.ok(r.body.includes(`<td>${SHOWN}</td>`), 'route and redirect cells');
    }
    const form = (await get(`${s.manager}?b=oracle`)).body;
    assert.ok(form.includes(`name="b_ss" id="b_ss" value="${SHOWN}"`), 'sticky names in an attribute');
    assert.ok(form.includes(`<option value="byrequests">byrequests</option>`));
    // The worker URL is in a link (href) and in the edit form's hidden field.
    const name = s.lb.balancers[0]!.workers[0]!.name;
    const wform = (await get(`${s.manager}?b=oracle&w=${encodeURIComponent(name)}`)).body;
    assert.ok(wform.includes(`<input type="hidden" name="w" value="${escapeHtml(name)}">`));
    assert.ok(wform.includes(`name="w_wr" id="w_wr" value="${SHOWN}"`));
    assert.ok(wform.includes(`href="?b=oracle&amp;w=${escapeHtml(encodeURIComponent(name))}"`));
    assert.doesNotMatch(withoutOwnScript(wform), /<script/i);
  });

  test('XML: well-formed, values escaped', async (t) => {
    const s = await setup(t);
    poison(s);
    const r = await get(`${s.manager}?xml=1`);
    noRawControls(r.body, 'xml');
    const doc = parseXml(r.body);
    assert.equal(doc.name, 'httpd:manager');
    assert.equal(doc.attrs['xmlns:httpd'], 'http://httpd.apache.org');
    const bal = one(one(doc, 'httpd:balancers'), 'httpd:balancer');
    assert.equal(one(bal, 'httpd:stickysession').text, SHOWN_DECODED);
    assert.equal(one(bal, 'httpd:lbmethod').text, SHOWN_DECODED);
    const w = all(one(bal, 'httpd:workers'), 'httpd:worker')[0]!;
    assert.equal(one(w, 'httpd:route').text, SHOWN_DECODED);
    assert.equal(one(w, 'httpd:redirect').text, SHOWN_DECODED);
    assert.equal(one(w, 'httpd:name').text, `http://127.0.0.1:1/${SHOWN_DECODED}`);
  });

  test('JSON: lossless, and inert if sniffed as HTML', async (t) => {
    const s = await setup(t);
    poison(s);
    const r = await get(`${s.manager}/api`);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.doesNotMatch(r.body, /[<>&]/);
    noRawControls(r.body, 'json');
    const snap = JSON.parse(r.body) as ManagerSnapshot;
    const w = snap.balancers[0]!.workers[0]!;
    assert.equal(w.route, HOSTILE);
    assert.equal(w.redirect, HOSTILE);
    assert.equal(snap.balancers[0]!.stickysession, HOSTILE);
  });

  test('values an admin can really set through the form come back escaped everywhere', async (t) => {
    const s = await setup(t);
    const route = '<script>alert(1)</script>';
    const redirect = `"'&<>`;
    assert.equal((await postForm(s, { w: workerUrl(s, 0), w_wr: route, w_rr: redirect })).status, 303);
    assert.equal((await postForm(s, { b_ss: '"><b>x</b>|<i>' })).status, 303);
    const page = (await get(`${s.manager}?b=oracle&w=${encodeURIComponent(workerUrl(s, 0))}`)).body;
    assert.doesNotMatch(withoutOwnScript(page), /<script|<b>x|<i>/);
    assert.ok(page.includes('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>&quot;&#39;&amp;&lt;&gt;</td>'));
    assert.ok(page.includes('name="w_rr" id="w_rr" value="&quot;&#39;&amp;&lt;&gt;"'));
    const xml = parseXml((await get(`${s.manager}?xml=1`)).body);
    const bal = one(one(xml, 'httpd:balancers'), 'httpd:balancer');
    assert.equal(one(bal, 'httpd:stickysession').text, '"><b>x</b>|<i>');
    assert.equal(one(all(one(bal, 'httpd:workers'), 'httpd:worker')[0]!, 'httpd:route').text, route);
    const json = (await get(`${s.manager}/api`)).body;
    assert.doesNotMatch(json, /[<>&]/);
    assert.equal((JSON.parse(json) as ManagerSnapshot).balancers[0]!.workers[0]!.redirect, redirect);
  });

  test('request values echoed in errors are escaped (b, w from the query)', async (t) => {
    const s = await setup(t);
    const r1 = await get(`${s.manager}?b=${encodeURIComponent('<script>alert(1)</script>')}`);
    assert.equal(r1.status, 404);
    assert.ok(r1.body.includes('no balancer named &lt;script&gt;alert(1)&lt;/script&gt;'));
    const r2 = await get(`${s.manager}?b=oracle&w=${encodeURIComponent('"><img src=x onerror=alert(1)>')}`);
    assert.equal(r2.status, 404);
    assert.doesNotMatch(r2.body, /<img/);
    const r3 = await postForm(s, { w: workerUrl(s, 0), w_wr: '<script>\u0001' });
    assert.equal(r3.status, 400);
    assert.doesNotMatch(withoutOwnScript(r3.body), /<script/);
    noRawControls(r3.body, 'refilled form');
  });

  test('the form action and host are escaped when rendered (request path, Host)', async (t) => {
    const s = await setup(t);
    const snap = JSON.parse((await get(`${s.manager}/api`)).body) as ManagerSnapshot;
    const html = renderPage(snap, {
      host: '"><script>x</script>',
      action: '/m/"><script>x</script>',
      styleNonce: '"x',
      selected: { balancer: 'oracle' },
    });
    assert.doesNotMatch(withoutOwnScript(html), /<script/);
    assert.ok(html.includes('action="/m/&quot;&gt;&lt;script&gt;x&lt;/script&gt;"'));
    assert.ok(html.includes('<style nonce="&quot;x">'));
    assert.ok(html.includes('const LIVE_URL = "/m/\\"\\u003e\\u003cscript\\u003ex\\u003c/script\\u003e/live";'));
  });

  test('a protocol-relative original URL cannot turn the form action into another host', async (t) => {
    const s = await setup(t, { mount: '/' });
    // "//evil.example/" is a path under the mount, not a host: no such manager page.
    const r = await request(s.base, '//evil.example/?b=oracle');
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.body, /action=/);
    const r2 = await request(s.base, '/\\evil.example/?b=oracle');
    assert.doesNotMatch(r2.body, /action="\/\/|action="\/\\/);
  });
});

describe('escape helpers', () => {
  test('escapeHtml covers & < > " \' and control characters', () => {
    assert.equal(escapeHtml(`&<>"'\u0000\u001f\u007f\u009f`), '&amp;&lt;&gt;&quot;&#39;\\x00\\x1f\\x7f\\x9f');
  });
  test('safeJson leaves no < > & U+2028 U+2029 raw and parses back to the same value', () => {
    const v = { a: '<&>\u2028\u2029\u0000' };
    const s = safeJson(v);
    assert.doesNotMatch(s, /[<>&\u2028\u2029]/);
    assert.equal(firstControl(s), undefined);
    assert.deepEqual(JSON.parse(s), v);
  });
  test('renderXml of an empty manager is well-formed', () => {
    const doc = parseXml(
      renderXml({ version: 1, generatedAt: '', readOnly: false, persisted: false, schedulers: [], balancers: [] }),
    );
    assert.equal(one(doc, 'httpd:balancers').children.length, 0);
  });
  test('the XML checker itself refuses what is not well-formed', () => {
    for (const bad of [
      '<a><b></a></b>',
      '<a>&</a>',
      '<a>&foo;</a>',
      '<a>\u0001</a>',
      '<a></a><b></b>',
      '<a>',
      '<a x="1" x="2"></a>',
      '<a>x<</a>',
    ]) {
      assert.throws(() => parseXml(bad), bad);
    }
  });
});
