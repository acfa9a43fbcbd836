// A resident scans a demo building's plate on a 360-pixel phone, reports
// without signing in, gets a tracking code and sees the report's status.

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

// The plate code of a demo building, as the registry knows it: asked of the
// API by a demo account that may look up addresses.
async function demoPlate() {
  for (const account of server.accounts) {
    const signIn = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: account.username, password: account.password }),
    });
    if (!signIn.ok) continue;
    const cookie = signIn.headers.get('set-cookie').split(';')[0];
    const q = encodeURIComponent('成都市武侯区浆洗街锦里小区1栋');
    const found = await fetch(`${server.url}/api/v1/addresses/resolve?q=${q}`, { headers: { cookie } });
    if (!found.ok) continue;
    const plate = (await found.json()).registry?.plate_code;
    if (plate) return plate;
  }
  throw new Error('no demo account found the demo building');
}

test('a resident reports through a building plate on a phone and tracks it', async () => {
  const plate = await demoPlate();
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 }, isMobile: true });
  const page = await context.newPage();
  const outside = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url)) outside.push(request.url());
  });
  await page.goto(`${server.url}/r/${plate}`);
  assert.equal(await page.locator('h1').innerText(), '扫码上报');
  assert.match(await page.locator('#address').innerText(), /锦里小区 1栋/);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `the page is ${width}px wide on a 360px phone`);
  await page.fill('textarea[name=text]', '楼道里堆满杂物，堵住了消防通道');
  await page.fill('input[name=phone]', '13912345678');
  await page.screenshot({ path: join(screenshotDir, 'report-form-phone.png'), fullPage: true });
  await Promise.all([page.waitForSelector('#tracking-code'), page.click('button[type=submit]')]);
  assert.equal(await page.locator('h1').innerText(), '已收到您的上报');
  const code = await page.locator('#tracking-code').innerText();
  assert.match(code, /^[A-Z0-9]+-\d{8}-\d{4,5}-[0-9A-Z]{6}$/);
  await page.screenshot({ path: join(screenshotDir, 'report-receipt-phone.png'), fullPage: true });

  await Promise.all([page.waitForSelector('#state'), page.click('a.button')]);
  assert.equal(await page.locator('input[name=code]').inputValue(), code);
  assert.match(await page.locator('#state').innerText(), /处理中|已办结/);
  assert.ok(!(await page.content()).includes('13912345678'), 'no phone number on the tracking page');
  await page.screenshot({ path: join(screenshotDir, 'report-track-phone.png'), fullPage: true });
  assert.deepEqual(outside, [], 'no request left the server');
  await context.close();
});
