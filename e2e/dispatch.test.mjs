// 派警 in a real browser: a fight call arrives; the operator's board
// recommends the nearest available unit with its estimate; the operator
// dispatches it; the crew's phone page (360 px) shows the job within one
// second; en route, on scene, resolved on scene with a tap each; the
// incident's timeline shows each step with actor and time; the figures
// count it as arrived within five minutes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo, chromiumOptions, screenshotDir } from './server.mjs';
import { account, signIn, openPage, postIncident, apiFrom, desk, phone, fitsWidth } from './helpers.mjs';

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

test('a fight call is dispatched to the nearest unit, whose crew resolves it on scene', async () => {
  const board = await openPage(browser, server, desk);
  const crew = await openPage(browser, server, phone);
  await signIn(board.page, server, account(server, { username: 'zhihui.jxj' }));
  await signIn(crew.page, server, account(server, { username: 'fujing.jxj' }));

  // The crew's phone page: its unit, free (the history may have left it
  // on a job), live.
  await Promise.all([crew.page.waitForURL(`${server.url}/unit`), crew.page.click('#to-unit')]);
  await crew.page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });
  let mine = (await apiFrom(crew.page, 'GET', '/api/v1/units/mine')).json;
  assert.equal(mine.unit.call_sign, '浆洗街巡1');
  if (mine.unit.status !== 'available') {
    const freed = await apiFrom(crew.page, 'POST', `/api/v1/units/${mine.unit.id}/status`, { status: 'available' });
    assert.equal(freed.status, 200, JSON.stringify(freed.json));
  }
  const unitId = mine.unit.id;

  await Promise.all([board.page.waitForURL(`${server.url}/board`), board.page.click('#to-board')]);
  await board.page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });
  const posted = await postIncident(board.page, {
    source: 'call_110', text: '锦里小区门口有人打架，有人受伤了', location_text: '成都市武侯区浆洗街锦里小区1栋', reporter_phone: '13912345678',
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.incident));
  const incident = posted.incident;
  assert.equal(incident.status, 'dispatched');
  assert.ok(incident.location.lat, 'the address has coordinates');
  // The car's GPS puts it at the scene's gate: it is the nearest unit.
  const placed = await apiFrom(crew.page, 'POST', '/api/v1/units/positions',
    { positions: [{ unit_id: unitId, lat: incident.location.lat, lon: incident.location.lon }] });
  assert.equal(placed.status, 200, JSON.stringify(placed.json));

  // The board recommends it first, with the estimate and how it was made.
  await board.page.click(`#incidents li[data-id="${incident.id}"]`);
  const first = board.page.locator('.units .recommended li').first();
  await first.waitFor({ timeout: 5_000 });
  assert.equal(await first.getAttribute('data-unit'), String(unitId));
  assert.match(await first.innerText(), /浆洗街巡1[\s\S]*分钟[\s\S]*5分钟内可达/);
  assert.match(await board.page.locator('.units .method').innerText(), /按道路网最短路径估算/);
  await first.locator('input[name=unit]').check();

  // Dispatched: the crew's phone shows the job within one second.
  const job = crew.page.locator(`#job [data-incident="${incident.id}"]`);
  const sent = Date.now();
  await board.page.click('#send-units');
  await job.waitFor({ timeout: 1_000 });
  const shownAfter = Date.now() - sent;
  assert.ok(shownAfter < 1_000, `shown after ${shownAfter} ms`);
  assert.match(await job.innerText(), /锦里小区门口有人打架/);
  assert.match(await job.innerText(), /139\*\*\*\*5678/);
  assert.ok(await fitsWidth(crew.page), 'the crew page fits 360 px');
  await crew.page.screenshot({ path: join(screenshotDir, 'unit-job-360.png'), fullPage: true });

  // The board's live map draws the unit over the town's own ground: grids
  // and roads with their names; the units' list has it with its status.
  const onMap = board.page.locator(`#map svg g.unit[data-unit="${unitId}"]`);
  await onMap.waitFor({ timeout: 5_000 });
  assert.ok(await board.page.locator('#map svg text.road-name').count() >= 1, 'roads are named');
  assert.ok(await board.page.locator('#map svg text.grid-name').count() >= 1, 'grids are named');
  await board.page.locator(`#unit-list li.unit-dispatched[data-unit="${unitId}"]`).waitFor({ timeout: 5_000 });

  // One tap each.
  await crew.page.click('button[data-tap="en_route"]');
  await crew.page.locator('#unit-status[data-status="en_route"]').waitFor({ timeout: 5_000 });
  await crew.page.click('button[data-tap="on_scene"]');
  await crew.page.locator('#unit-status[data-status="on_scene"]').waitFor({ timeout: 5_000 });
  await crew.page.fill('#result', '双方已劝离，伤者无大碍，现场调解完毕');
  await crew.page.click('button[data-tap="resolve"]');
  await crew.page.locator('#unit-status[data-status="available"]').waitFor({ timeout: 5_000 });
  await crew.page.locator('#idle').waitFor({ timeout: 5_000 });

  // The board's timeline, live: each step with its actor and time.
  const timeline = board.page.locator('#detail .timeline');
  await timeline.locator('li[data-event="resolved_on_scene"]').waitFor({ timeout: 5_000 });
  for (const event of ['unit_dispatched', 'unit_arrived', 'resolved_on_scene', 'unit_cleared']) {
    const entry = timeline.locator(`li[data-event="${event}"]`).first();
    assert.ok(await entry.locator('time').getAttribute('datetime'), `${event} has a time`);
    assert.match(await entry.locator('.actor').innerText(), /#\d+/, `${event} has an actor`);
  }
  assert.match(await timeline.locator('li[data-event="unit_dispatched"] .unit').first().innerText(), /浆洗街巡1/);
  assert.match(await board.page.locator('#detail .detail-head .status').innerText(), /已办结|办结/);
  await board.page.screenshot({ path: join(screenshotDir, 'board-dispatched.png'), fullPage: true });

  // The figures count it: arrived within five minutes, resolved on scene.
  const chief = await openPage(browser, server, desk);
  await signIn(chief.page, server, account(server, { username: 'suozhang.jxj' }));
  const at = Date.parse(incident.received_at);
  const window = `from=${encodeURIComponent(new Date(at - 1).toISOString())}&to=${encodeURIComponent(new Date(at + 1).toISOString())}`;
  const figures = (await apiFrom(chief.page, 'GET', `/api/v1/figures?${window}`)).json;
  assert.deepEqual(figures.police_arrival.within_standard, { count: 1, of: 1, rate: 1 }, JSON.stringify(figures));
  assert.deepEqual(figures.resolved_on_scene, { count: 1, of: 1, rate: 1 });

  for (const { errors, outside, context } of [board, crew, chief]) {
    assert.deepEqual(errors, []);
    assert.deepEqual(outside, []);
    await context.close();
  }
});
