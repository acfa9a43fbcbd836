// Every demo role signs in through the real sign-in page and lands on a home
// page that shows its organisation and role; no request leaves the server.

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

test('each demo role signs in and sees its organisation and role', async () => {
  // The printed accounts: one for every role (the file lists the whole town).
  const featured = server.accounts.filter((a) => a.featured);
  assert.ok(featured.length >= 10, 'the demo prints an account for every role');
  for (const account of featured) {
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const outside = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url)) outside.push(request.url());
    });
    await page.goto(`${server.url}/`);
    assert.equal(new URL(page.url()).pathname, '/signin', 'signed out: the home page sends to sign-in');
    assert.equal(await page.locator('h1').innerText(), '登录');
    await page.fill('input[name=username]', account.username);
    await page.fill('input[name=password]', account.password);
    await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
    assert.equal(await page.locator('#username').innerText(), account.username);
    assert.ok((await page.locator('#org').innerText()).includes(account.organisation), account.username);
    assert.equal(await page.locator(`#roles [data-role="${account.role}"]`).innerText(), account.role_name);
    await page.screenshot({ path: join(screenshotDir, `home-${account.role}-${account.username}.png`), fullPage: true });
    assert.deepEqual(outside, [], 'no request left the server');
    await context.close();
  }
});

test('a wrong password is refused in Chinese, and English is one click away', async () => {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', server.accounts[0].username);
  await page.fill('input[name=password]', 'not-the-password');
  await page.click('button[type=submit]');
  assert.match(await page.locator('.error').innerText(), /用户名或密码错误/);
  await page.screenshot({ path: join(screenshotDir, 'signin-refused-phone.png'), fullPage: true });
  await page.click('text=English');
  assert.equal(await page.locator('h1').innerText(), 'Sign in');
  await context.close();
});

test('signing out ends the session', async () => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  const account = server.accounts.find((a) => a.role === 'station_chief');
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', account.username);
  await page.fill('input[name=password]', account.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
  await Promise.all([page.waitForURL(`${server.url}/signin`), page.click('text=退出登录')]);
  await page.goto(`${server.url}/`);
  assert.equal(new URL(page.url()).pathname, '/signin');
  await context.close();
});

test('an operator looks up an address and sees who answers for it', async () => {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 800 } });
  const page = await context.newPage();
  const account = server.accounts.find((a) => a.role === 'operator');
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', account.username);
  await page.fill('input[name=password]', account.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
  await page.fill('#address-lookup input[name=q]', '成都武侯浆洗街蜀汉花园三幢2单元501室');
  await Promise.all([page.waitForURL(/q=/), page.click('#address-lookup button')]);
  const resolved = await page.locator('#resolved').innerText();
  assert.match(resolved, /浆洗街街道（510107001）/);
  const registry = await page.locator('#registry').innerText();
  assert.match(registry, /510107-/);
  assert.match(registry, /浆洗街派出所/);
  assert.match(registry, /刘\*\*（minjing\.jxj）/, 'the officer is shown with a masked name');
  await page.screenshot({ path: join(screenshotDir, 'address-lookup-phone.png'), fullPage: true });
  await context.close();
});
