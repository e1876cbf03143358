import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, skip } from './chromium.js';
import { api, nonceOf, setup, traffic } from './helpers.js';

// docs/manager-live.png is refreshed only on request (UPDATE_SCREENSHOT=1), so test runs leave the tree clean.
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? fileURLToPath(new URL('../../docs/manager-live.png', import.meta.url))
    : join(tmpdir(), `manager-live-${process.pid}.png`);

/** Polls `cond` until it holds (the page updates every two seconds), failing after `ms`. */
async function eventually(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('the page did not show it in time');
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('the live manager page in a real browser (headless Chromium)', { skip }, () => {
  test('counters and sparklines move without reload; a disabled worker is marked and its rate falls to zero', async (t) => {
    const s = await setup(t);
    const context = await launch(t);
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(s.manager);
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    const row = (i: number) => page.locator(`table.workers tr[data-worker="${s.ups[i]!.url}"]`);
    const elected = async (i: number): Promise<number> =>
      Number(await row(i).locator('td[data-k="elected"]').innerText());
    const rateTitle = async (i: number): Promise<string> =>
      (await row(i).locator('td[data-k="spark"] svg.rate title').textContent()) ?? '';
    assert.deepEqual([await elected(0), await elected(1), await elected(2)], [0, 0, 0]);

    await traffic(s, 30);
    await eventually(async () => (await elected(2)) === 10);
    assert.deepEqual([await elected(0), await elected(1), await elected(2)], [10, 10, 10]);
    assert.match(await rateTitle(0), /^requests\/s [\d.]*[1-9][\d.]*, errors\/s 0 \(last 10 s; chart: 5 min\)$/);
    assert.equal(await row(0).locator('td[data-k="spark"] polyline.req').count(), 1);

    // Disable b through the API, as another operator would: the open page marks it without reload.
    const r = await api(s, 'PATCH', `/balancers/oracle/workers/${encodeURIComponent(s.ups[1]!.url)}`, {
      nonce: await nonceOf(s),
      flags: { D: true },
    });
    assert.equal(r.status, 200, r.body);
    await eventually(
      async () =>
        /\bchanged\b/.test((await row(1).getAttribute('class')) ?? '') &&
        (await row(1).locator('.st.bad').textContent()) === 'Init Dis',
    );

    // Traffic goes on without b; once a new 5-second bucket fills, b's newest rate is zero, a's is not.
    const driving = (async () => {
      for (let k = 0; k < 40; k++) {
        await traffic(s, 4);
        await new Promise((res) => setTimeout(res, 250));
      }
    })();
    await eventually(
      async () => (await rateTitle(1)).startsWith('requests/s 0,') && !(await rateTitle(0)).startsWith('requests/s 0,'),
      30_000,
    );
    await driving;
    assert.equal(navigations, 0, 'the page never reloaded');
    // The sparklines are the table's last column: scroll the workers table to them for the picture.
    await page.evaluate("document.querySelectorAll('.scroll').forEach((el) => { el.scrollLeft = el.scrollWidth; })");
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual(problems, []);
  });
});
