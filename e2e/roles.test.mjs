// Each role of the demo world in a real browser, on one demo: it signs in,
// opens the page its work lives on, does that page's main action and leaves
// a screenshot `target/e2e/role-<role>.png`. The operator's routed incident
// is the one the department handler then accepts and returns, so the
// closed loop is walked by the people who walk it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo, chromiumOptions, screenshotDir } from './server.mjs';
import {
  account, signIn, openPage, postIncident, apiFrom, demoPlate, fitsWidth, desk, phone,
} from './helpers.mjs';

let server;
let browser;
// The incident the operator routes to labour inspection, for its handler.
let routed = null;

before(async () => {
  server = await startDemo();
  browser = await chromium.launch(chromiumOptions);
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const shot = (page, name) => page.screenshot({ path: join(screenshotDir, name), fullPage: true });

// A call the rules cannot read: nothing in it names a category, so intake
// sends no one and the command room holds it.
const UNREAD = '我们十几个人在这边干了三个月，到现在一分都没拿到，老板电话也不接';
const JINLI = '成都市武侯区浆洗街锦里小区3栋';

test('command-room operator: a call arrives, is re-categorised and routed from the board', async () => {
  const { context, page, outside, errors } = await openPage(browser, server, desk);
  await signIn(page, server, account(server, { username: 'zhihui.jxj' }));
  await Promise.all([page.waitForURL(`${server.url}/board`), page.click('#to-board')]);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });

  const posted = await postIncident(page, { source: 'call_110', text: UNREAD, location_text: JINLI });
  assert.equal(posted.status, 201, JSON.stringify(posted.incident));
  const incident = posted.incident;
  assert.equal(incident.status, 'triaged', `the rules decided nothing: ${JSON.stringify(incident.triage)}`);
  assert.deepEqual(incident.work_orders, []);

  const row = page.locator(`#incidents > li[data-id="${incident.id}"]`);
  await row.waitFor({ timeout: 2000 });
  assert.match(await row.innerText(), /待派转/);
  await row.locator('button').click();
  const dispatch = page.locator('#detail .dispatch');
  await dispatch.waitFor();
  assert.match(await dispatch.innerText(), /待派转/);
  assert.match(await dispatch.locator('.suggestion').innerText(), /规则建议：其他/);

  // Read as police work it is the station's to dispatch, not a department's.
  await dispatch.locator('#dispatch-category').selectOption('fight');
  await dispatch.locator('form.dispatch-category button').click();
  await page.locator('#detail .facts', { hasText: '打架斗殴' }).waitFor();
  await page.locator('#detail form.dispatch-police button', { hasText: '派警' }).waitFor();
  assert.equal(await page.locator('#detail form.dispatch-route').count(), 0, 'no department chooser for police work');

  // 拖欠工资: the suggested department is labour inspection, ticked.
  await page.locator('#dispatch-category').selectOption('wage_arrears');
  await page.locator('#detail form.dispatch-category button').click();
  await page.locator('#detail .facts', { hasText: '拖欠工资' }).waitFor();
  const suggested = page.locator('#detail .owners li', { has: page.locator('.tag.suggested') });
  await suggested.waitFor();
  assert.match(await suggested.innerText(), /武侯区劳动保障监察大队/);
  assert.equal(await suggested.locator('input').isChecked(), true);
  assert.equal(await page.locator('#detail .owners li').first().innerText(), await suggested.innerText(), 'the suggestion comes first');
  await shot(page, 'board-dispatch-desk.png');

  await page.locator('#detail form.dispatch-route button[type=submit]').click();
  const order = page.locator('#detail .work-order', { hasText: '武侯区劳动保障监察大队' });
  await order.waitFor();
  assert.match(await order.innerText(), /待签收/);
  await page.locator(`#incidents > li[data-id="${incident.id}"][data-status="diverted"]`).waitFor();
  assert.equal(await page.locator('#detail .dispatch form.dispatch-category').count(), 0, 'routed: the category is settled');

  const after = (await apiFrom(page, 'GET', `/api/v1/incidents/${incident.id}`)).json;
  assert.equal(after.status, 'diverted');
  assert.equal(after.triage.category, 'wage_arrears');
  assert.equal(after.work_orders.length, 1);
  assert.equal(after.work_orders[0].category, 'wage_arrears');
  assert.equal(after.org_names[after.work_orders[0].owner_org_id], '武侯区劳动保障监察大队');
  const events = after.timeline.map((e) => e.event);
  assert.equal(events.filter((e) => e === 'overridden').length, 2, events.join(','));
  assert.ok(events.includes('work_order_created'), events.join(','));
  routed = { incident: after, workOrderId: after.work_orders[0].id };
  // The pane as the operator sees it, scrolled to the new work order.
  await order.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(screenshotDir, 'role-operator.png') });

  assert.deepEqual(outside, [], 'no request left the server');
  assert.deepEqual(errors.filter((e) => !/409|422/.test(e)), [], 'no script errors');
  await context.close();
});

test('command-room operator on a 360-pixel phone: a held call is read as police work and dispatched', async () => {
  const { context, page, errors } = await openPage(browser, server, { width: 360, height: 780 });
  await signIn(page, server, account(server, { username: 'zhihui.jxj' }));
  await page.goto(`${server.url}/board`);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });
  const posted = await postIncident(page, { source: 'phone', text: '你好，麻烦你们派人过来看一下', location_text: JINLI });
  assert.equal(posted.incident.status, 'triaged');
  const row = page.locator(`#incidents > li[data-id="${posted.incident.id}"]`);
  await row.waitFor({ timeout: 2000 });
  await row.locator('button').click();
  await page.locator('#detail .owners input[name=owner]').first().waitFor();
  // Nothing ticked: told in Chinese, nothing sent.
  for (const box of await page.locator('#detail .owners input[name=owner]:checked').all()) await box.uncheck();
  await page.locator('#detail form.dispatch-route button[type=submit]').click();
  assert.equal(await page.locator('#detail form.dispatch-route .error').innerText(), '请至少选择一个承办单位');
  assert.ok(await fitsWidth(page), 'the detail with its actions fits 360 pixels');
  // On a phone the record covers the list: the screen is what one sees.
  await page.screenshot({ path: join(screenshotDir, 'board-dispatch-phone.png') });
  const centre = page.locator('#detail .owners li', { has: page.locator('.tag.suggested') });
  assert.match(await centre.innerText(), /综治中心/, 'the rules send 其他 to the street governance centre');
  // Someone is prowling, the operator hears: police work, dispatched.
  await page.locator('#dispatch-category').selectOption('suspicious_activity');
  await page.locator('#detail form.dispatch-category button').click();
  await page.locator('#detail form.dispatch-police button').click();
  await page.locator(`#incidents > li[data-id="${posted.incident.id}"][data-status="dispatched"]`).waitFor({ state: 'attached' });
  await page.locator('#detail form.dispatch-route button', { hasText: '联动分流' }).waitFor();
  const dispatched = (await apiFrom(page, 'GET', `/api/v1/incidents/${posted.incident.id}`)).json;
  assert.equal(dispatched.status, 'dispatched');
  assert.equal(dispatched.triage.category, 'suspicious_activity');
  assert.ok(await fitsWidth(page));
  assert.deepEqual(errors, []);
  await context.close();
});

test('department handler: accepts the routed work order on /inbox and returns it with a result', async () => {
  assert.ok(routed, 'the operator routed an incident to labour inspection');
  const { context, page, errors } = await openPage(browser, server, phone);
  await signIn(page, server, account(server, { username: 'chuzhi.labour' }));
  await Promise.all([page.waitForURL(`${server.url}/inbox`), page.click('#to-inbox')]);
  assert.equal(await page.locator('h1').innerText(), '部门工单');
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 10_000 });

  const id = routed.workOrderId;
  const card = page.locator(`li[data-work-order="${id}"]`);
  await card.waitFor({ timeout: 5000 });
  assert.match(await card.innerText(), /待签收/);
  assert.match(await card.innerText(), /签收时限/);
  await card.locator('button[data-action=accept]').click();
  await page.locator(`li[data-work-order="${id}"][data-status=accepted]`).waitFor();

  // An empty result is refused with the server's Chinese reason.
  await page.locator(`li[data-work-order="${id}"] button[data-action=return]`).click();
  await page.locator(`li[data-work-order="${id}"] form.note button[type=submit]`).click();
  const refusal = page.locator(`li[data-work-order="${id}"] .error`);
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /[\u4e00-\u9fff]/, 'the refusal is in Chinese');
  await shot(page, 'inbox-refused-phone.png');

  await page.fill(`li[data-work-order="${id}"] textarea`, '已约谈用工单位，承诺本周内结清工资');
  await page.locator(`li[data-work-order="${id}"] form.note button[type=submit]`).click();
  const returned = page.locator(`li[data-work-order="${id}"][data-status=returned]`);
  await returned.waitFor();
  assert.match(await returned.innerText(), /已反馈/);
  assert.match(await returned.innerText(), /已约谈用工单位/);
  await shot(page, 'role-department_handler.png');

  // The command room sees both steps in the incident's timeline.
  const operator = await openPage(browser, server, desk);
  await signIn(operator.page, server, account(server, { username: 'zhihui.jxj' }));
  const incident = (await apiFrom(operator.page, 'GET', `/api/v1/incidents/${routed.incident.id}`)).json;
  const events = incident.timeline.map((e) => e.event);
  assert.ok(events.includes('accepted') && events.includes('returned'), events.join(','));
  assert.equal(incident.work_orders[0].status, 'returned');
  assert.equal(incident.work_orders[0].result, '已约谈用工单位，承诺本周内结清工资');
  assert.deepEqual(errors.filter((e) => !/422/.test(e)), []);
  await operator.context.close();
  await context.close();
});

test('community officer: records a task outcome on /tasks from a phone', async () => {
  const { context, page, outside, errors } = await openPage(browser, server, phone);
  await signIn(page, server, account(server, { username: 'minjing.jxj' }));
  await Promise.all([page.waitForURL(`${server.url}/tasks`), page.click('#to-tasks')]);
  assert.equal(await page.locator('h1').innerText(), '我的工作清单');
  const lines = page.locator('#tasks > li');
  const before = await lines.count();
  assert.ok(before > 0, 'the demo officer has tasks today');
  assert.ok(await fitsWidth(page), 'the list fits a 360-pixel screen without scrolling sideways');
  await shot(page, 'tasks-phone-list.png');

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
  await shot(page, 'tasks-phone-record.png');
  await Promise.all([page.waitForURL(`${server.url}/tasks?done=${id}`), page.click('#submit')]);
  assert.match(await page.locator('#done').innerText(), new RegExp(`已完成：${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(await page.locator(`#tasks > li[data-id="${id}"]`).count(), 0, 'a done task leaves the list');
  assert.equal(await page.locator('#tasks > li').count(), before - 1);
  await shot(page, 'role-community_officer.png');

  // The record as the API keeps it, and the task page shows it.
  const task = (await apiFrom(page, 'GET', `/api/v1/tasks/${id}`)).json;
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

// The smallest PNG: one white pixel.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC',
  'base64',
);

test('grid worker: files a field report with a photo on /field-reports, and the officer sees it live', async () => {
  const officer = await openPage(browser, server, phone, { isMobile: true });
  await signIn(officer.page, server, account(server, { username: 'minjing.jxj' }));
  await officer.page.goto(`${server.url}/field-reports`);
  await officer.page.waitForSelector('#live[data-state="live"]');

  const { context, page, outside } = await openPage(browser, server, phone, { isMobile: true });
  await signIn(page, server, account(server, { username: 'wangge.jxj' }));
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
  assert.ok(await fitsWidth(page), 'the form fits a 360-pixel phone');
  await shot(page, 'field-report-form-phone.png');

  await page.click('#submit');
  await page.waitForFunction(() => document.getElementById('outcome').textContent.startsWith('已上报'));
  const item = page.locator('#reports li').first();
  await item.waitFor();
  assert.match(await item.innerText(), /安全隐患[\s\S]*飞线充电/);
  assert.equal(await item.locator('img.thumb').count(), 1, 'the photo is shown to its reporter');
  assert.equal(await page.locator('#address').inputValue(), '', 'the form is ready for the next report');
  await shot(page, 'role-grid_worker.png');

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
  await shot(officer.page, 'field-report-list-phone.png');

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
  await shot(officer.page, 'field-report-registered-phone.png');

  assert.deepEqual(outside, [], 'no request left the server');
  await context.close();
  await officer.context.close();
});

test('resident (no account): reports through a building plate on a phone, gets a receipt and tracks it', async () => {
  const plate = await demoPlate(server);
  const { context, page, outside } = await openPage(browser, server, phone, { isMobile: true });
  await page.goto(`${server.url}/r/${plate}`);
  assert.equal(await page.locator('h1').innerText(), '扫码上报');
  assert.match(await page.locator('#address').innerText(), /锦里小区 1栋/);
  assert.ok(await fitsWidth(page), 'the page fits a 360-pixel phone');
  await page.fill('textarea[name=text]', '楼道里堆满杂物，堵住了消防通道');
  await page.fill('input[name=phone]', '13912345678');
  await shot(page, 'report-form-phone.png');
  await Promise.all([page.waitForSelector('#tracking-code'), page.click('button[type=submit]')]);
  assert.equal(await page.locator('h1').innerText(), '已收到您的上报');
  const code = await page.locator('#tracking-code').innerText();
  assert.match(code, /^[A-Z0-9]+-\d{8}-\d{4,5}-[0-9A-Z]{6}$/);
  await shot(page, 'role-resident.png');

  await Promise.all([page.waitForSelector('#state'), page.click('a.button')]);
  assert.equal(await page.locator('input[name=code]').inputValue(), code);
  assert.match(await page.locator('#state').innerText(), /处理中|已办结|待派转|已接警/);
  assert.ok(!(await page.content()).includes('13912345678'), 'no phone number on the tracking page');
  await shot(page, 'report-track-phone.png');
  assert.deepEqual(outside, [], 'no request left the server');
  await context.close();
});

test('station chief: opens the overview, follows a chart to its records, and acknowledges a warning', async () => {
  // A call with a threat in it raises a warning on its building for the station.
  const operator = await openPage(browser, server, desk);
  await signIn(operator.page, server, account(server, { username: 'zhihui.jxj' }));
  const posted = await postIncident(operator.page, {
    source: 'call_110', text: '楼上邻居拿着刀说要杀了我全家', location_text: '成都市武侯区浆洗街锦里小区2栋',
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.incident));
  await operator.context.close();

  const { context, page, outside, errors } = await openPage(browser, server, desk);
  await signIn(page, server, account(server, { username: 'suozhang.jxj' }));
  // 站情概览: the chief's morning page; one category's bar opens its records.
  await Promise.all([page.waitForURL(`${server.url}/overview`), page.click('#to-overview')]);
  assert.match(await page.locator('h1').innerText(), /站情概览/);
  const bar = page.locator('#last_30_days-chart-categories a.bar').first();
  await bar.waitFor();
  const count = await bar.getAttribute('data-value');
  await shot(page, 'role-station_chief.png');
  await bar.scrollIntoViewIfNeeded();
  await Promise.all([page.waitForURL(/\/overview\/records\?/), bar.click()]);
  assert.equal(await page.locator('#records-total').getAttribute('data-total'), count);
  assert.ok(await page.locator('#record-list > li').count() > 0);
  await shot(page, 'overview-category-records.png');

  // 预警看板: the threat's warning is acknowledged with one tap.
  await page.goto(`${server.url}/warnings`);
  assert.equal(await page.locator('h1').innerText(), '预警看板');
  const card = page.locator('#warnings > li', { hasText: '锦里小区' }).filter({ has: page.locator('button[id^=acknowledge-]') }).first();
  await card.waitFor();
  const id = await card.getAttribute('data-id');
  await Promise.all([page.waitForLoadState('load'), page.click(`#acknowledge-${id}`)]);
  await page.locator('#done').waitFor();
  const warning = (await apiFrom(page, 'GET', `/api/v1/warnings/${id}`)).json;
  assert.equal(warning.status, 'acknowledged');
  await page.goto(`${server.url}/warnings?status=acknowledged`);
  await page.locator(`#warning-${id}`).waitFor();
  await shot(page, 'warnings-acknowledged.png');
  assert.deepEqual(outside, [], 'no request left the server');
  assert.deepEqual(errors, []);
  await context.close();
});

// The roles whose work is reading, administering or auditing: their main
// page is the home page (what it shows depends on the role), or the desk
// the home page offers first.
for (const username of ['fenxi.wh', 'admin.wh', 'anquan.wh', 'shenji.wh', 'fujing.jxj']) {
  test(`${username}: opens the main page`, async () => {
    const who = account(server, { username });
    const { context, page, outside, errors } = await openPage(browser, server, desk);
    await signIn(page, server, who);
    assert.equal(await page.locator(`#roles [data-role="${who.role}"]`).innerText(), who.role_name);
    const firstDesk = page.locator('#desks a').first();
    if (await firstDesk.count()) {
      const href = await firstDesk.getAttribute('href');
      await Promise.all([page.waitForURL(`${server.url}${href}`), firstDesk.click()]);
    }
    assert.ok((await page.locator('h1').innerText()).length > 0);
    await shot(page, `role-${who.role}.png`);
    assert.deepEqual(outside, [], 'no request left the server');
    assert.deepEqual(errors, []);
    await context.close();
  });
}
