// The station chief's morning page (站情概览) in a real Chromium, on a desk
// and on a 360-pixel phone: every request the page makes stays on the
// server, the charts and the map are SVG drawn by the server, and a bar
// leads to the records behind it — as many as it says.

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

async function signIn(page, account) {
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', account.username);
  await page.fill('input[name=password]', account.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
}

function chief() {
  const account = server.accounts.find((a) => a.username === 'suozhang.jxj')
    ?? server.accounts.find((a) => a.role === 'station_chief');
  assert.ok(account, 'the demo has a station chief');
  return account;
}

for (const [name, viewport] of [['desk', { width: 1280, height: 900 }], ['phone', { width: 360, height: 740 }]]) {
  test(`the station chief opens the overview on a ${name} and follows a bar to its records`, async () => {
    const context = await browser.newContext({ locale: 'zh-CN', viewport });
    const page = await context.newPage();
    const requests = [];
    page.on('request', (request) => requests.push(request.url()));
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });

    await signIn(page, chief());
    await Promise.all([page.waitForURL(`${server.url}/overview`), page.click('#to-overview')]);
    assert.match(await page.locator('h1').innerText(), /站情概览/);
    await page.waitForLoadState('networkidle');

    // Both periods, each with its charts drawn by the server and the map.
    for (const period of ['yesterday', 'last_30_days']) {
      assert.equal(await page.locator(`#period-${period}`).count(), 1, period);
    }
    const month = page.locator('#period-last_30_days');
    assert.ok(await month.locator('#last_30_days-chart-groups svg.chart a.bar').count() >= 2, 'incidents by group');
    assert.ok(await month.locator('#last_30_days-chart-categories svg.chart a.bar').count() >= 1, 'top categories');
    assert.equal(await month.locator('#last_30_days-chart-disputes svg.chart a.bar').count(), 4, 'open disputes by risk');
    const map = month.locator('#last_30_days-chart-map svg.chart.map');
    assert.equal(await map.count(), 1, 'the map is drawn');
    assert.ok(await map.locator('polygon.grid').count() >= 1, 'grids drawn as outlines of their buildings');
    assert.ok(await map.locator('a.spot').count() >= 1, 'buildings with incidents on the map');
    assert.ok(await map.locator('text.grid-name').count() >= 1, 'grids carry their names');
    assert.ok(await map.locator('text.road-name').count() >= 1, 'roads carry their names');
    // The history's units answered: arrival and on-scene resolution are
    // figures, not 暂无数据.
    for (const figure of ['police_arrival/within_standard/rate', 'resolved_on_scene/rate']) {
      const value = Number(await month.locator(`[data-figure="figures/${figure}"]`).getAttribute('data-value'));
      assert.ok(value > 0 && value <= 1, `${figure} = ${value}`);
    }
    assert.doesNotMatch(await page.locator('#last_30_days-arrival').innerText(), /暂无数据/);
    const incidents = Number(await month.locator('[data-figure="figures/incidents"]').getAttribute('data-value'));
    assert.ok(incidents > 0, 'the demo history has incidents in the last 30 days');
    if (name === 'phone') {
      const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
      assert.ok(fits, 'the overview fits a 360-pixel screen without scrolling sideways');
    }
    await page.screenshot({ path: join(screenshotDir, `overview-chief${name === 'phone' ? '-360' : ''}.png`), fullPage: true });

    // Every request of the page went to the server itself.
    const outside = requests.filter((url) => !url.startsWith(`${server.url}/`));
    assert.deepEqual(outside, [], 'no request leaves the server');
    assert.deepEqual(errors, []);

    // A bar leads to the records behind it: as many as it counts.
    const bar = month.locator('#last_30_days-chart-groups a.bar').first();
    const count = await bar.getAttribute('data-value');
    await bar.scrollIntoViewIfNeeded();
    await Promise.all([page.waitForURL(/\/overview\/records\?/), bar.click()]);
    assert.equal(await page.locator('#records-total').getAttribute('data-total'), count);
    assert.equal(await page.locator('#record-list > li').count(), Math.min(Number(count), 300));
    await page.screenshot({ path: join(screenshotDir, `overview-records${name === 'phone' ? '-360' : ''}.png`), fullPage: true });

    // And a dot on the map leads to its building's incidents.
    await page.goBack();
    const spot = page.locator('#last_30_days-chart-map a.spot').first();
    const atBuilding = await spot.getAttribute('data-value');
    await Promise.all([page.waitForURL(/building_id=/), spot.click({ force: true })]);
    assert.equal(await page.locator('#records-total').getAttribute('data-total'), atBuilding);
    assert.deepEqual(requests.filter((url) => !url.startsWith(`${server.url}/`)), []);
    await context.close();
  });
}
