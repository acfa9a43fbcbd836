// The officer's daily task list on a phone (360×740): the demo's community
// officer opens 我的工作清单 from the home page, taps into a task, is told in
// Chinese what is missing, then records the outcome; the task leaves the
// list and the API shows its record.

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

test('a community officer records a task outcome from the phone page', async () => {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const outside = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url)) outside.push(request.url());
  });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });

  const officer = server.accounts.find((a) => a.role === 'community_officer');
  assert.ok(officer, 'the demo has a community officer');
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', officer.username);
  await page.fill('input[name=password]', officer.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);

  await Promise.all([page.waitForURL(`${server.url}/tasks`), page.click('#to-tasks')]);
  assert.equal(await page.locator('h1').innerText(), '我的工作清单');
  const lines = page.locator('#tasks > li');
  const before = await lines.count();
  assert.ok(before > 0, 'the demo officer has tasks today');
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  assert.ok(fits, 'the list fits a 360-pixel screen without scrolling sideways');
  await page.screenshot({ path: join(screenshotDir, 'tasks-phone-list.png'), fullPage: true });

  // One tap into the first task.
  const first = lines.first();
  const id = await first.getAttribute('data-id');
  const title = (await first.locator('.task-title').innerText()).trim();
  await Promise.all([page.waitForURL(`${server.url}/tasks/${id}`), first.locator('a').click()]);
  assert.equal((await page.locator('h1').innerText()).trim(), title);

  // Nothing chosen, nothing written: refused in Chinese, and still open.
  await page.fill('textarea[name=note]', '');
  await page.click('#submit');
  const problems = page.locator('#problems');
  await problems.waitFor();
  assert.match(await problems.innerText(), /结果：必填/);
  assert.match(await problems.innerText(), /情况记录：必填/);
  assert.equal(await page.locator('#status').innerText(), '待办');

  await page.check('input[name=outcome][value=completed]');
  await page.fill('input[name=place]', '锦里小区3栋2单元');
  await page.fill('textarea[name=note]', '上门走访，住户三户均在家，无矛盾纠纷');
  await page.screenshot({ path: join(screenshotDir, 'tasks-phone-record.png'), fullPage: true });
  await Promise.all([page.waitForURL(`${server.url}/tasks?done=${id}`), page.click('#submit')]);
  assert.match(await page.locator('#done').innerText(), new RegExp(`已完成：${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(await page.locator(`#tasks > li[data-id="${id}"]`).count(), 0, 'a done task leaves the list');
  assert.equal(await page.locator('#tasks > li').count(), before - 1);
  await page.screenshot({ path: join(screenshotDir, 'tasks-phone-done.png'), fullPage: true });

  // The record as the API keeps it, and the task page shows it.
  const task = await page.evaluate(async (taskId) => (await fetch(`/api/v1/tasks/${taskId}`)).json(), id);
  assert.equal(task.status, 'done');
  assert.equal(task.done.outcome, 'completed');
  assert.equal(task.done.place, '锦里小区3栋2单元');
  assert.equal(task.done.on_time, true);
  await page.goto(`${server.url}/tasks/${id}`);
  assert.match(await page.locator('#record').innerText(), /无矛盾纠纷/);
  assert.equal(await page.locator('#done-form').count(), 0, 'no second record');

  assert.deepEqual(outside, [], 'no request left the server');
  assert.deepEqual(errors.filter((e) => !/422/.test(e)), [], 'no script errors');
  await context.close();
});
