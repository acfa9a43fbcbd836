// The command-room board in a real browser: the demo's operator opens
// /board, an incident is posted through the API, and its row appears
// without a reload within one second of the POST's answer. Triage and
// routing from the board, and the department's inbox, are in roles.test.mjs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo, chromiumOptions, screenshotDir } from './server.mjs';
import { account, signIn, postIncident } from './helpers.mjs';

let server;
let browser;

before(async () => {
  server = await startDemo();
  browser = await chromium.launch(chromiumOptions);
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function signInAs(page, role) {
  return signIn(page, server, account(server, { role }));
}

const report = postIncident;

// Resolves with the page-clock moment a row for `id` is in the list.
async function rowAppears(page, id) {
  return page.evaluate((incidentId) => new Promise((resolve) => {
    const list = document.getElementById('incidents');
    const found = () => list.querySelector(`li[data-id="${incidentId}"]`);
    if (found()) { resolve(performance.now()); return; }
    new MutationObserver((_, observer) => {
      if (found()) { observer.disconnect(); resolve(performance.now()); }
    }).observe(list, { childList: true });
  }), id);
}

for (const viewport of [{ name: 'desk', width: 1440, height: 900 }, { name: 'phone', width: 360, height: 780 }]) {
  test(`a new incident appears on the board within one second (${viewport.name})`, async () => {
    const context = await browser.newContext({ locale: 'zh-CN', viewport });
    const page = await context.newPage();
    const outside = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url)) outside.push(request.url());
    });
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('response', (response) => { if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`); });

    await signInAs(page, 'operator');
    await Promise.all([page.waitForURL(`${server.url}/board`), page.click('#to-board')]);
    assert.equal(await page.locator('h1').innerText(), '指挥室 · 实时警情');
    await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });
    const before = await page.locator('#incidents > li').count();

    const text = `${viewport.name}：锦里小区门口有两个人打架，其中一人头部流血`;
    const posted = await report(page, { source: 'call_110', text, location_text: '成都市武侯区浆洗街锦里小区3栋' });
    assert.equal(posted.status, 201, JSON.stringify(posted.incident));
    const id = posted.incident.id;
    const shownAt = await Promise.race([
      rowAppears(page, id),
      new Promise((resolve) => setTimeout(() => resolve(null), 5000)),
    ]);
    assert.ok(shownAt !== null, 'the new incident appeared on the board');
    const delay = Math.max(0, shownAt - posted.answeredAt);
    console.log(`# ${viewport.name}: row visible ${delay.toFixed(0)} ms after the POST's answer`);
    assert.ok(delay < 1000, `the row appeared ${delay.toFixed(0)} ms after the POST's answer`);

    const row = page.locator(`#incidents > li[data-id="${id}"]`);
    await row.waitFor({ state: 'visible' });
    assert.equal(await page.locator('#incidents > li').count(), before + 1, 'no reload: one row more');
    assert.match(await row.innerText(), /警情/);
    assert.match(await row.innerText(), /打架斗殴|打架/);

    // Filters: the police incident leaves the list under 非警情 and comes back.
    await page.selectOption('#filter-group', 'non_police');
    assert.equal(await row.isVisible(), false);
    await page.selectOption('#filter-group', '');
    await page.selectOption('#filter-status', posted.incident.status);
    assert.equal(await row.isVisible(), true);
    await page.selectOption('#filter-status', 'closed');
    assert.equal(await row.isVisible(), false);
    await page.selectOption('#filter-status', '');
    await page.selectOption('#filter-category', posted.incident.triage.category);
    assert.equal(await row.isVisible(), true);
    await page.selectOption('#filter-category', '');

    await page.screenshot({ path: join(screenshotDir, `board-${viewport.name}-list.png`), fullPage: true });

    // The incident opens with its timeline.
    await row.locator('button').click();
    const detail = page.locator('#detail');
    await detail.locator('h2', { hasText: posted.incident.receipt_number }).waitFor();
    const timeline = await detail.locator('.timeline').innerText();
    assert.match(timeline, /接警/);
    assert.match(timeline, /派转/);
    assert.match(timeline, /综合指挥室/, 'the command room is named, not numbered');
    await page.screenshot({ path: join(screenshotDir, `board-${viewport.name}-incident.png`), fullPage: true });
    await detail.locator('button.close').click();
    assert.equal(await detail.isVisible(), false);

    assert.deepEqual(outside, [], 'no request left the server');
    assert.deepEqual(errors, [], 'no script errors');
    await context.close();
  });
}

test('a diverted incident shows its work order, deadlines and department', async () => {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signInAs(page, 'operator');
  await page.goto(`${server.url}/board`);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });
  const posted = await report(page, {
    source: 'phone', text: '老板拖欠我们三个月工资一直不给', location_text: '成都市武侯区浆洗街蜀汉花园2栋',
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.incident));
  assert.equal(posted.incident.triage.group, 'non_police');
  const row = page.locator(`#incidents > li[data-id="${posted.incident.id}"]`);
  await row.waitFor({ timeout: 2000 });
  assert.match(await row.innerText(), /非警情/);
  assert.match(await row.innerText(), /已分流/);
  await row.locator('button').click();
  const order = page.locator('#detail .work-order');
  await order.waitFor();
  const text = await order.innerText();
  assert.match(text, /武侯区劳动保障监察大队/);
  assert.match(text, /待签收/);
  assert.match(text, /签收时限/);
  assert.match(text, /办结时限/);
  assert.equal(await order.locator('.badge.overdue').count(), 0, 'nothing is overdue yet');
  await page.screenshot({ path: join(screenshotDir, 'board-work-order.png'), fullPage: true });
  await context.close();
});
