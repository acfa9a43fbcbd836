// A grid worker on a 360-pixel phone files a field report (e治采): the
// address is matched in the registry as it is typed, a photo is attached
// from the camera input, and the report appears in the list — and live on
// the community officer's page, who registers a reported dispute as a case.

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

// The smallest PNG: one white pixel.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC',
  'base64',
);

async function phone(role) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 }, isMobile: true });
  const page = await context.newPage();
  const account = server.accounts.find((a) => a.role === role);
  assert.ok(account, `the demo has a ${role}`);
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', account.username);
  await page.fill('input[name=password]', account.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
  return { context, page };
}

test('a grid worker files a report with a photo on a phone and the officer sees it live', async () => {
  const officer = await phone('community_officer');
  await officer.page.goto(`${server.url}/field-reports`);
  await officer.page.waitForSelector('#live[data-state="live"]');

  const { context, page } = await phone('grid_worker');
  const outside = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url)) outside.push(request.url());
  });
  await Promise.all([page.waitForURL(`${server.url}/field-reports`), page.click('#to-field-reports')]);
  assert.equal(await page.locator('h1').innerText(), '网格上报 · e治采');

  await page.fill('#address', '成都市武侯区浆洗街锦里小区1栋');
  await page.waitForSelector('#resolution[data-state="found"]');
  assert.match(await page.locator('#resolution').innerText(), /已匹配标准地址：锦里小区 1栋/);
  await page.click('label.kind:has-text("安全隐患")');
  await page.selectOption('#category', 'fire');
  await page.fill('#description', '1栋楼道堆放杂物，有电动车在楼道飞线充电');
  await page.setInputFiles('#photo', { name: 'photo.png', mimeType: 'image/png', buffer: PNG });
  await page.waitForSelector('#photo-preview:not([hidden])');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page is ${width}px wide on a 360px phone`);
  await page.screenshot({ path: join(screenshotDir, 'field-report-form-phone.png'), fullPage: true });

  await page.click('#submit');
  await page.waitForFunction(() => document.getElementById('outcome').textContent.startsWith('已上报'));
  const item = page.locator('#reports li').first();
  await item.waitFor();
  assert.match(await item.innerText(), /安全隐患[\s\S]*飞线充电/);
  assert.equal(await item.locator('img.thumb').count(), 1, 'the photo is shown to its reporter');
  assert.equal(await page.locator('#address').inputValue(), '', 'the form is ready for the next report');

  // Live on the officer's page, photo included.
  const pushed = officer.page.locator('#reports li').first();
  await pushed.waitFor();
  assert.match(await pushed.innerText(), /飞线充电/);
  const photo = await officer.page.evaluate(async () => {
    const url = document.querySelector('#reports li img.thumb').getAttribute('src');
    const response = await fetch(url);
    return { status: response.status, type: response.headers.get('content-type') };
  });
  assert.deepEqual(photo, { status: 200, type: 'image/png' });
  await officer.page.screenshot({ path: join(screenshotDir, 'field-report-list-phone.png'), fullPage: true });

  // A report of a dispute is registered as a case from the officer's list.
  const filed = await page.evaluate(async () => {
    const response = await fetch('/api/v1/field-reports', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `e2e-${Date.now()}` },
      body: JSON.stringify({ kind: 'dispute', category: 'neighbour', description: '1栋两户因漏水多次争吵',
        address_text: '成都市武侯区浆洗街锦里小区1栋' }),
    });
    return response.status;
  });
  assert.equal(filed, 201);
  const dispute = officer.page.locator('#reports li[data-kind="dispute"]').first();
  await dispute.waitFor();
  await dispute.locator('summary').click();
  await dispute.locator('input[name=party]').fill('张三');
  await dispute.locator('input[name=other_party]').fill('李四');
  await dispute.locator('select[name=risk_level]').selectOption('medium');
  await dispute.locator('input[name=risk_reason]').fill('多次争吵，尚无肢体冲突');
  await dispute.locator('form.register button').click();
  const registered = officer.page.locator('#reports li[data-kind="dispute"] a[href^="/disputes/"]').first();
  await registered.waitFor();
  assert.equal(await registered.innerText(), '已登记为纠纷');
  await officer.page.screenshot({ path: join(screenshotDir, 'field-report-registered-phone.png'), fullPage: true });

  assert.deepEqual(outside, [], 'no request left the server');
  await context.close();
  await officer.context.close();
});
