// What the browser tests share: signing in through the real page, a page
// that records script errors and requests leaving the server, incidents
// posted from a page's own session, and a demo building's plate.

import assert from 'node:assert/strict';

export const desk = { width: 1280, height: 900 };
export const phone = { width: 360, height: 740 };

// A demo account by role (the featured one when there are several) or by
// username.
export function account(server, { role, username }) {
  const found = username
    ? server.accounts.find((a) => a.username === username)
    : server.accounts.find((a) => a.role === role && a.featured) ?? server.accounts.find((a) => a.role === role);
  assert.ok(found, `the demo has ${username ?? `a ${role}`}`);
  return found;
}

export async function signIn(page, server, who) {
  await page.goto(`${server.url}/signin`);
  await page.fill('input[name=username]', who.username);
  await page.fill('input[name=password]', who.password);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click('button[type=submit]')]);
  return who;
}

// A fresh browser context with one page; `errors` collects script errors
// and `outside` every request that did not go to the server.
export async function openPage(browser, server, viewport = desk, options = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport, ...options });
  const page = await context.newPage();
  const outside = [];
  const errors = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(server.url)) outside.push(request.url());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
  return { context, page, outside, errors };
}

// Posts an incident from the page's own session and returns the answer
// with the moment (page clock) the answer arrived.
export async function postIncident(page, body) {
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

// A JSON API call from the page's own session.
export async function apiFrom(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  }, { method, path, body });
}

// The plate code of a demo building, as the registry knows it: asked of the
// API by a demo account that may look up addresses.
export async function demoPlate(server, address = '成都市武侯区浆洗街锦里小区1栋') {
  for (const account of server.accounts) {
    const signedIn = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: account.username, password: account.password }),
    });
    if (!signedIn.ok) continue;
    const cookie = signedIn.headers.get('set-cookie').split(';')[0];
    const found = await fetch(`${server.url}/api/v1/addresses/resolve?q=${encodeURIComponent(address)}`, { headers: { cookie } });
    if (!found.ok) continue;
    const plate = (await found.json()).registry?.plate_code;
    if (plate) return plate;
  }
  throw new Error(`no demo account found ${address}`);
}

// Whether the page fits its viewport without scrolling sideways.
export async function fitsWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
}
