// The command-room board in a real browser: the demo's operator opens
// /board, an incident is posted through the API, and its row appears
// without a reload within one second of the POST's answer.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo, chromiumOptions, screenshotDir } from './server.mjs';

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

async function signIn(page, role) {
  const account = server.accounts.find((a) => a.role === role);
  assert.ok(account, `the demo has a ${role}`);
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', account.username);
  await page.fill('input[name=password]', account.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
  return account;
}

// Posts an incident from the page's own session and returns the answer
// with the moment (page clock) the answer arrived.
async function report(page, body) {
  return page.evaluate(async (incident) => {
    const response = await fetch('/api/v1/incidents', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `e2e-${Date.now()}-${Math.random()}` },
      body: JSON.stringify(incident),
    });
    const answeredAt = performance.now();
    return { status: response.status, answeredAt, incident: await response.json() };
  }, body);
}

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

    await signIn(page, 'operator');
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
  await signIn(page, 'operator');
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
  assert.match(await row.innerText(), /已转部门/);
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

test("a department handler accepts and returns a work order from the inbox", async () => {
  // The operator reports from one browser; the labour handler works in another.
  const desk = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
  const operator = await desk.newPage();
  await signIn(operator, 'operator');
  const phone = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 780 } });
  const page = await phone.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  const handler = server.accounts.find((a) => a.username === 'chuzhi.labour');
  assert.ok(handler, 'the demo has a labour inspection handler');
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', handler.username);
  await page.fill('input[name=password]', handler.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
  await Promise.all([page.waitForURL(`${server.url}/inbox`), page.click('#to-inbox')]);
  assert.equal(await page.locator('h1').innerText(), '部门工单');
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });

  const posted = await report(operator, {
    source: 'phone', text: '工地老板拖欠我们十几个人两个月工资', location_text: '成都市武侯区浆洗街红墙巷新村1栋',
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.incident));
  const orderId = posted.incident.work_orders[0]?.id;
  assert.ok(orderId, `the incident became a work order: ${JSON.stringify(posted.incident)}`);
  const card = page.locator(`li[data-work-order="${orderId}"]`);
  await card.waitFor({ timeout: 2000 });
  assert.match(await card.innerText(), /待签收/);
  assert.match(await card.innerText(), /签收时限/);

  await card.locator('button[data-action=accept]').click();
  await page.locator(`li[data-work-order="${orderId}"][data-status=accepted]`).waitFor();

  // An empty result is refused with the server's Chinese reason.
  await page.locator(`li[data-work-order="${orderId}"] button[data-action=return]`).click();
  await page.locator(`li[data-work-order="${orderId}"] form.note button[type=submit]`).click();
  const refusal = page.locator(`li[data-work-order="${orderId}"] .error`);
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /[\u4e00-\u9fff]/, 'the refusal is in Chinese');
  await page.screenshot({ path: join(screenshotDir, 'inbox-refused-phone.png'), fullPage: true });

  await page.fill(`li[data-work-order="${orderId}"] textarea`, '已约谈用工单位，承诺本周内结清工资');
  await page.locator(`li[data-work-order="${orderId}"] form.note button[type=submit]`).click();
  const returned = page.locator(`li[data-work-order="${orderId}"][data-status=returned]`);
  await returned.waitFor();
  assert.match(await returned.innerText(), /已反馈/);
  assert.match(await returned.innerText(), /已约谈用工单位/);
  await page.screenshot({ path: join(screenshotDir, 'inbox-returned-phone.png'), fullPage: true });

  // The command room sees both steps in the incident's timeline.
  const incident = await operator.evaluate(async (id) => (await fetch(`/api/v1/incidents/${id}`)).json(), posted.incident.id);
  const events = incident.timeline.map((e) => e.event);
  assert.ok(events.includes('accepted') && events.includes('returned'), events.join(','));
  assert.deepEqual(errors, []);
  await desk.close();
  await phone.close();
});
