import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, skip } from './chromium.js';
import type { Page } from 'playwright-core';
import { setup, traffic, type Setup } from './helpers.js';

// docs/manager.png is refreshed only on request (UPDATE_SCREENSHOT=1), so test runs leave the tree clean.
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOT === '1'
    ? fileURLToPath(new URL('../../docs/manager.png', import.meta.url))
    : join(tmpdir(), `manager-${process.pid}.png`);
function count(list: string[], name: string): number {
  return list.filter((x) => x === name).length;
}

/** Opens a worker's edit form by clicking its link, as an operator would. */
async function openWorker(page: Page, s: Setup, i: number): Promise<void> {
  await page.goto(s.manager);
  await page.getByRole('link', { name: s.ups[i]!.url, exact: true }).click();
  await page.waitForSelector('form #w_lf');
}

async function submit(page: Page): Promise<void> {
  await Promise.all([page.waitForURL(/saved=1/), page.getByRole('button', { name: 'Submit' }).click()]);
  await page.getByText('Changes applied.').waitFor();
}

async function statusOf(page: Page, url: string): Promise<string> {
  const row = page.locator('table.workers tr', { has: page.getByRole('link', { name: url, exact: true }) });
  return (await row.locator('td').nth(5).innerText()).trim();
}

describe('the manager in a real browser (headless Chromium)', { skip }, () => {
  test('disable a worker through its form, watch traffic move, re-enable, re-weight, add a worker', async (t) => {
    const s = await setup(t, {
      names: ['a', 'b', 'c', 'd'],
      members: (ups) => ups.slice(0, 3).map((u, i) => ({ url: u.url, route: `r${i + 1}` })),
    });
    const context = await launch(t);
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('console', (m) => {
      // The refused change below is a 400, which Chromium reports as a failed load: that one is expected.
      if (m.type() === 'error' && !m.text().includes('status of 400')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(s.manager);
    assert.equal(await page.title(), 'Balancer Manager');
    assert.match(await page.locator('h1').innerText(), /^Load Balancer Manager for 127\.0\.0\.1:\d+$/);
    assert.deepEqual(await traffic(s, 3), ['a', 'b', 'c']);

    // Disable b through its form: traffic moves away from it.
    await openWorker(page, s, 1);
    await page.check('#w_status_D1');
    await submit(page);
    assert.match(await statusOf(page, s.ups[1]!.url), /Init Dis/);
    const without = await traffic(s, 6);
    assert.equal(count(without, 'b'), 0, without.join(' '));
    assert.equal(count(without, 'a') + count(without, 'c'), 6);

    // Re-enable it: b takes traffic again.
    await openWorker(page, s, 1);
    await page.check('#w_status_D0');
    await submit(page);
    assert.match(await statusOf(page, s.ups[1]!.url), /Init Ok/);
    assert.ok(count(await traffic(s, 6), 'b') >= 2);

    // Loadfactor 3 on a: a takes 3 of every 5.
    await openWorker(page, s, 0);
    await page.fill('#w_lf', '3');
    await submit(page);
    const weighted = await traffic(s, 10);
    assert.equal(count(weighted, 'a'), 6, weighted.join(' '));
    assert.equal(await page.locator('table.workers tr').nth(1).locator('td').nth(3).innerText(), '3.00');

    // Add d through the balancer form: it appears disabled and takes nothing until enabled.
    await page.goto(s.manager);
    await page.getByRole('link', { name: 'balancer://oracle' }).click();
    await page.fill('#b_nwrkr', s.ups[3]!.url);
    await page.check('#b_wyes');
    await submit(page);
    assert.match(await statusOf(page, s.ups[3]!.url), /Init Dis/);
    assert.equal(count(await traffic(s, 5), 'd'), 0);
    await openWorker(page, s, 3);
    await page.check('#w_status_D0');
    await page.fill('#w_wr', 'r4');
    await submit(page);
    assert.ok(count(await traffic(s, 8), 'd') >= 1);

    // A refused value comes back in the form with the reason; nothing changes.
    await openWorker(page, s, 2);
    await page.fill('#w_lf', '250');
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /w_lf: "250" is not in 1\.\.100/);
    assert.equal(await page.inputValue('#w_lf'), '250');
    assert.equal(s.lb.balancers[0]!.workers[2]!.lbfactor, 100);

    // The screenshot for docs/manager.md: the page with d's edit form open.
    await openWorker(page, s, 3);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(existsSync(SCREENSHOT));
    assert.deepEqual(problems, [], 'no console errors (a CSP violation would show here)');
  });
});
