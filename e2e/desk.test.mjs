// 接警台 in a real browser: the command room's operator takes a walk-in at
// the board's desk for an address typed carelessly, sees the standard
// address, the rules' suggestion and the earlier calls there, changes the
// category, saves with a double click (one incident) and routes it from
// the pane; a dispute case registered from an incident's pane carries the
// caller as a masked party and the incident linked, and the case links a
// further incident. The desk also works at 360 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo, chromiumOptions, screenshotDir } from './server.mjs';
import { account, signIn, openPage, postIncident, apiFrom, desk, phone } from './helpers.mjs';

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

const shot = (page, name) => page.screenshot({ path: join(screenshotDir, name), fullPage: true });
const ADDRESS = '成都市武侯区浆洗街锦里小区5栋';
// The same building as a caller at the desk says it: no city, 幢 for 栋.
const CARELESS = '浆洗街锦里小区5幢';

async function toBoard(page) {
  await signIn(page, server, account(server, { username: 'zhihui.jxj' }));
  await Promise.all([page.waitForURL(`${server.url}/board`), page.click('#to-board')]);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });
}

test('operator: a walk-in at the desk is resolved, triaged, saved once and routed', async () => {
  const { context, page, outside, errors } = await openPage(browser, server, desk);
  await toBoard(page);

  // What the desk already knows of the building, then two calls more.
  const known = (await apiFrom(page, 'POST', '/api/v1/incidents/preview', { location_text: ADDRESS })).json;
  const earlier = [];
  for (const text of ['5栋楼上天天半夜有人大声吵闹', '5栋又有人半夜吵闹摔东西']) {
    const posted = await postIncident(page, { source: 'phone', text, location_text: ADDRESS });
    assert.equal(posted.status, 201, JSON.stringify(posted.incident));
    earlier.push(posted.incident.receipt_number);
  }

  await page.locator('#desk summary').click();
  const form = page.locator('#desk-form');
  await form.locator('input[name=source][value=walk_in]').check();
  await form.locator('input[name=reporter_name]').fill('王小明');
  // A phone number cut short is refused at its field, in Chinese.
  await form.locator('input[name=reporter_phone]').fill('1391234');
  const phoneError = form.locator('.field-error[data-field="reporter_phone"]');
  await phoneError.waitFor({ state: 'visible' });
  assert.match(await phoneError.innerText(), /[\u4e00-\u9fff]/, 'the reason is in Chinese');
  await form.locator('input[name=reporter_phone]').fill('13912345678');
  await phoneError.waitFor({ state: 'hidden' });
  await form.locator('textarea[name=text]').fill('我家楼上邻居天天半夜吵架摔东西，吵得没法睡觉');
  await form.locator('input[name=location_text]').fill(CARELESS);

  const standard = page.locator('#desk-address .standard');
  await standard.waitFor();
  assert.match(await standard.innerText(), /锦里小区/);
  assert.match(await standard.innerText(), /5栋/);
  assert.match(await page.locator('#desk-address').innerText(), /网格/);
  const suggestion = page.locator('#desk-triage .suggestion');
  await suggestion.waitFor();
  assert.match(await suggestion.innerText(), /规则建议：.+（依据：.+）/);
  const suggested = await suggestion.getAttribute('data-category');
  const shownEarlier = page.locator('#desk-earlier .earlier li');
  await page.waitForFunction((n) => document.querySelectorAll('#desk-earlier .earlier li').length >= n,
    known.earlier.length + 2);
  assert.equal(await shownEarlier.count(), known.earlier.length + 2, 'the two new calls are listed');
  const listed = await page.locator('#desk-earlier').innerText();
  for (const receipt of earlier) assert.ok(listed.includes(receipt), `${receipt} listed`);
  assert.match(await page.locator('#desk-earlier .call-number').innerText(),
    new RegExp(`第${known.earlier.length + 3}次报警`));
  await shot(page, 'desk-preview.png');

  // The operator reads it otherwise than the rules.
  const chosen = suggested === 'neighbour_dispute' ? 'noise' : 'neighbour_dispute';
  await form.locator('#desk-category').selectOption(chosen);
  const before = (await apiFrom(page, 'GET', '/api/v1/incidents')).json.length;
  await form.locator('#desk-save').dblclick();
  await page.waitForFunction(() => document.getElementById('desk').dataset.saved
    || !document.getElementById('desk-error').hidden
    || document.querySelector('#desk-form .field-error:not([hidden])'));
  assert.ok(await page.locator('#desk').getAttribute('data-saved'),
    `saved: ${await page.locator('#desk-form').innerText()}`);
  const id = Number(await page.locator('#desk').getAttribute('data-saved'));
  await page.locator(`#detail[data-id="${id}"]`).waitFor();
  const all = (await apiFrom(page, 'GET', '/api/v1/incidents')).json;
  assert.equal(all.length, before + 1, 'the double click made one incident');
  const saved = (await apiFrom(page, 'GET', `/api/v1/incidents/${id}`)).json;
  assert.equal(saved.source, 'walk_in');
  assert.equal(saved.triage.category, chosen);
  assert.match(saved.reporter_name, /^王\*+$/);
  assert.equal(saved.status, 'triaged', 'held for the operator to route');
  assert.ok(saved.timeline.some((e) => e.event === 'overridden'), 'the rules\u2019 suggestion and the change are kept');
  assert.match(await page.locator('#detail .facts').innerText(), /王\*/);

  // Routed from the pane to the suggested organisation.
  const owner = page.locator('#detail .owners input[name=owner]:checked');
  await owner.first().waitFor();
  await page.locator('#detail form.dispatch-route button[type=submit]').click();
  await page.locator('#detail .work-order').first().waitFor();
  await page.locator(`#incidents > li[data-id="${id}"][data-status="diverted"]`).waitFor();
  await shot(page, 'desk-routed.png');
  assert.deepEqual(outside, []);
  assert.deepEqual(errors.filter((e) => !/422/.test(e)), []);
  await context.close();
});

test('the desk fits a 360 px phone', async () => {
  const { context, page, errors } = await openPage(browser, server, phone);
  await toBoard(page);
  await page.locator('#desk summary').click();
  await page.locator('#desk-form textarea[name=text]').fill('请问办居住证需要带什么材料');
  await page.locator('#desk-form input[name=location_text]').fill(CARELESS);
  await page.locator('#desk-address .standard').waitFor();
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `no sideways scrolling: ${widths}`);
  await shot(page, 'desk-phone.png');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a case registered from an incident carries the caller masked and links incidents', async () => {
  const { context, page, outside, errors } = await openPage(browser, server, desk);
  // The community officer registers the station's cases.
  await signIn(page, server, account(server, { role: 'community_officer' }));
  await page.goto(`${server.url}/board`);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });
  const posted = await postIncident(page, {
    source: 'walk_in', text: '楼上邻居家漏水不修，双方已经吵了好几次', location_text: ADDRESS,
    reporter_name: '李建国', reporter_phone: '13712345678',
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.incident));
  const incident = posted.incident;
  const row = page.locator(`#incidents > li[data-id="${incident.id}"]`);
  await row.waitFor();
  await row.locator('button').click();
  const caseForm = page.locator('#detail form.case-form');
  await caseForm.waitFor();
  assert.match(await caseForm.innerText(), /李\*/);
  assert.doesNotMatch(await caseForm.innerText(), /李建国|13712345678/);
  assert.equal(await caseForm.locator('input[name=reporter_as_party]').isChecked(), true);
  assert.equal(await caseForm.locator('select[name=dispute_type]').inputValue(), 'neighbour', 'type from the category');
  await caseForm.locator('select[name=risk_level]').selectOption('medium');
  await caseForm.locator('textarea[name=risk_reason]').fill('双方多次争吵，情绪激动');
  await caseForm.locator('button[type=submit]').click();
  const link = page.locator('#case-link');
  await page.locator('#case-link, #detail form.case-form .error:not([hidden])').first().waitFor();
  assert.equal(await link.count(), 1, `registered: ${await caseForm.innerText()}`);
  await Promise.all([page.waitForURL(/\/disputes\/\d+$/), link.click()]);

  const parties = await page.locator('#parties').innerText();
  assert.match(parties, /李\*/);
  assert.doesNotMatch(parties, /李建国|13712345678/);
  assert.match(await page.locator('#incidents').innerText(), new RegExp(incident.receipt_number));

  // From the case, a further call about the same dispute is linked.
  const further = await postIncident(page, { source: 'phone', text: '楼上又漏水了，邻居还是不管', location_text: ADDRESS });
  assert.equal(further.status, 201);
  await page.locator('#link-incident input[name=incident_id]').fill(String(further.incident.id));
  await Promise.all([page.waitForLoadState('load'), page.locator('#link-incident button[type=submit]').click()]);
  await page.locator('#incidents', { hasText: further.incident.receipt_number }).waitFor();
  await shot(page, 'desk-case.png');
  assert.deepEqual(outside, []);
  assert.deepEqual(errors, []);
  await context.close();
});
