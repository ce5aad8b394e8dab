// The dashboard's behaviour beyond the seed demo's acceptance, in headless Chromium against a real daemon running a
// small project: read-only without a session (and the daemon refusing the page's calls), terminal colours as spans,
// log filters with pause/resume and "jump to now", KV (pretty JSON, masked secrets, create, delete), a lost session
// (401) said clearly, a page on another origin unable to use the session, keyboard use, and the theme toggle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupProject, makeProject } from '../support/cli.js';
import { TOKEN_HEADER } from '../../src/client/index.js';
import { freePort } from '../support/ports.js';
import { launchBrowser, skipWithoutBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { DASHBOARD_BROWSER_ARGS, openView, shot, signIn, texts, until, upProject, viaFrontDoor, watchErrors } from './support.js';
import type { PageGlobals, UpProject } from './support.js';

const skip = skipWithoutBrowser();
const SECRET = `hunter2-${randomUUID()}`;
const APP = { feature: { x: true, limit: 3 }, names: ['a', 'b'] };

// An app that prints coloured lines at start, and whatever /say?text=…&stream=stderr asks for.
const PRINTER_JS = `
const http = require('http');
const E = '\\u001b';
console.log(E + '[31mred-alert' + E + '[0m plain ' + E + '[1;32mbold-green' + E + '[0m ' + E + '[38;5;208mpalette-orange' + E + '[0m ' + E + '[38;2;10;120;200mtrue-blue' + E + '[0m');
const s = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://printer');
  if (u.pathname === '/health') return res.end('ok');
  if (u.pathname === '/say') {
    const text = u.searchParams.get('text') || '';
    if (u.searchParams.get('stream') === 'stderr') console.error(text); else console.log(text);
    return res.end('said');
  }
  res.end('printer');
});
s.listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => { s.close(() => process.exit(0)); setTimeout(() => process.exit(0), 300).unref(); });
`;

let dir: string | undefined;
let project: UpProject;
let browser: TestBrowser | undefined;
let context: BrowserContext;
let page: Page;
let errors: string[] = [];
let otherOrigin: Server | undefined;

/** Makes the printer print a line (through the front door). */
async function say(text: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<void> {
  const res = await viaFrontDoor(project.httpPort, 'printer.localhost', `/say?stream=${stream}&text=${encodeURIComponent(text)}`);
  assert.equal(res.status, 200, res.body);
}

/** The control API's status, with the token (the CLI's way). */
async function status(): Promise<{ services: { name: string; desired: number }[] }> {
  const res = await fetch(`${project.api}/v1/machineroom/status`, { headers: { [TOKEN_HEADER]: project.token } });
  return (await res.json()) as { services: { name: string; desired: number }[] };
}

before(async () => {
  if (skip) return;
  const port = await freePort();
  dir = makeProject({
    'printer.js': PRINTER_JS,
    'machineroom.yml': [
      'name: dashui',
      'secrets: [secrets/]',
      'kv:',
      `  config/app.json: '${JSON.stringify(APP)}'`,
      `  secrets/api-key: ${SECRET}`,
      'services:',
      '  printer:',
      '    command: node printer.js',
      `    port: ${port}`,
      '    health: { http: /health, interval: 500ms }',
      '',
    ].join('\n'),
  });
  project = await upProject(dir);
  browser = await launchBrowser({ args: DASHBOARD_BROWSER_ARGS });
  context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  errors = watchErrors(page);
});

after(async () => {
  await browser?.close();
  await new Promise<void>((r) => (otherOrigin ? otherOrigin.close(() => r()) : r()));
  if (dir) await cleanupProject(dir);
});

test('without a session the dashboard is read-only, says how to sign in, and the daemon refuses its calls', { skip, timeout: 60_000 }, async () => {
  const anon = await browser!.browser.newContext();
  try {
    const p = await anon.newPage();
    await openView(p, project.api, '#/service/printer');
    const banner = p.locator('.banner-readonly');
    await banner.waitFor();
    assert.match(await banner.innerText(), /machineroom up.*machineroom dashboard/s);
    assert.equal((await texts(p, '.session'))[0], 'Read-only');
    await p.locator('.instance').first().waitFor();
    assert.ok(await p.getByRole('button', { name: 'Scale', exact: true }).isDisabled());
    assert.ok(await p.getByRole('button', { name: 'Restart all' }).isDisabled());
    await openView(p, project.api, `#/kv?key=${encodeURIComponent('secrets/api-key')}`);
    await p.locator('.kv-detail .mask').waitFor();
    assert.ok(await p.getByRole('button', { name: 'Reveal' }).isDisabled());
    assert.ok(!(await p.content()).includes(SECRET), 'the secret is not in a read-only page');
    await shot(p, 'read-only-kv');
    // The page's own calls, made anyway: refused.
    const answers = await p.evaluate(async () => {
      const scale = await fetch('/v1/machineroom/scale', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: '{"printer":2}' });
      const reveal = await fetch('/v1/machineroom/kv/secrets/api-key', { credentials: 'same-origin' });
      const session = (await (await fetch('/v1/machineroom/session')).json()) as { authenticated: boolean };
      return { scale: scale.status, reveal: reveal.status, session };
    });
    assert.deepEqual(answers, { scale: 401, reveal: 401, session: { authenticated: false } });
    assert.equal((await status()).services.find((s) => s.name === 'printer')?.desired, 1);
  } finally {
    await anon.close();
  }
});

test('terminal colours become spans with classes or CSSOM colours; no escape code reaches the text', { skip, timeout: 60_000 }, async () => {
  await signIn(page, project);
  await openView(page, project.api, '#/logs?service=printer');
  const line = page.locator('.log-line[data-source="printer.1"]', { hasText: 'red-alert' });
  await until('the coloured line', async () => (await line.count()) === 1);
  assert.equal((await line.locator('.ansi-red-fg').innerText()).trim(), 'red-alert');
  const green = line.locator('.log-text > span', { hasText: 'bold-green' });
  const classes = (await green.getAttribute('class')) ?? '';
  assert.ok(classes.includes('ansi-bold') && /ansi-(bright-)?green-fg/.test(classes), `bold green: ${classes}`);
  const color = (text: string) => line.locator('.log-text > span', { hasText: text }).evaluate((el) => (el as unknown as { style: { color: string } }).style.color);
  assert.equal(await color('palette-orange'), 'rgb(255, 135, 0)');
  assert.equal(await color('true-blue'), 'rgb(10, 120, 200)');
  const text = await line.locator('.log-text').innerText();
  assert.equal(text.trim(), 'red-alert plain bold-green palette-orange true-blue');
  assert.ok(!text.includes('\u001b') && !text.includes('[31m'), 'no escape codes in the text');
  // The same in dark: the basic colours are the theme's.
  const red = () => line.locator('.ansi-red-fg').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(el).color);
  const lightRed = await red();
  await page.emulateMedia({ colorScheme: 'dark' });
  // The page follows the scheme through a media-query listener and repaints after it: poll until the colour changes.
  let darkRed = lightRed;
  await until('the dark theme\'s red', async () => (darkRed = await red()) !== lightRed).catch(() => undefined);
  await page.emulateMedia({ colorScheme: null });
  assert.notEqual(lightRed, darkRed, 'red is tuned per theme');
});

test('logs: filter by stream, instance and text; pause and resume; jump to now', { skip, timeout: 90_000 }, async () => {
  const m = randomUUID().slice(0, 8);
  await openView(page, project.api, '#/logs');
  await say(`out-${m}`);
  await say(`err-${m}`, 'stderr');
  await until('both lines', async () => (await page.locator('.log-line', { hasText: m }).count()) === 2);

  await page.getByLabel('Stream').selectOption('stderr');
  await until('only stderr lines', async () => {
    const streams = await page.locator('.log-line').evaluateAll((ls) => ls.map((l) => l.className));
    return streams.length > 0 && streams.every((c) => c.includes('stream-stderr'));
  });
  assert.equal(await page.locator('.log-line', { hasText: `err-${m}` }).count(), 1);
  assert.match(await page.evaluate(() => (globalThis as unknown as PageGlobals).location.hash), /stream=stderr/, 'the filter is in the address');
  await page.getByLabel('Stream').selectOption('');
  await page.getByLabel('Instance').selectOption('printer.1');
  await page.getByLabel('Text').fill(m);
  await until('the two lines of printer.1 with the marker', async () => {
    const sources = await page.locator('.log-line').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-source')));
    return sources.length === 2 && sources.every((s) => s === 'printer.1');
  });

  // Paused: a new line is counted, not shown; resumed: shown.
  await page.getByRole('button', { name: 'Pause' }).click();
  await say(`paused-${m}`);
  await page.getByRole('button', { name: /^Resume \(1 new\)$/ }).waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('.log-line', { hasText: `paused-${m}` }).count(), 0, 'not shown while paused');
  await shot(page, 'logs-paused');
  await page.getByRole('button', { name: /^Resume/ }).click();
  await page.locator('.log-line', { hasText: `paused-${m}` }).waitFor();

  // Scrolled back: "Jump to now" brings the newest line into view.
  await page.getByLabel('Text').fill('');
  await page.getByLabel('Instance').selectOption('');
  for (let i = 0; i < 60; i++) await say(`filler-${m}-${i}`);
  await page.locator('.log-line', { hasText: `filler-${m}-59` }).waitFor();
  const scroller = page.locator('.log-scroll');
  const atBottom = () => scroller.evaluate((el) => {
    const e = el as unknown as { scrollHeight: number; scrollTop: number; clientHeight: number };
    return e.scrollHeight - e.scrollTop - e.clientHeight < 30;
  });
  await until('following the newest line', atBottom);
  await scroller.evaluate((el) => {
    (el as unknown as { scrollTop: number }).scrollTop = 0;
  });
  const jump = page.getByRole('button', { name: 'Jump to now' });
  await until('"Jump to now" enabled once scrolled back', async () => await jump.isEnabled());
  await say(`after-scroll-${m}`);
  await page.locator('.log-line', { hasText: `after-scroll-${m}` }).waitFor({ state: 'attached' });
  assert.equal(await atBottom(), false, 'a new line does not pull a reader back down');
  await jump.click();
  await until('back at the newest line', atBottom);
});

// The address changed while the page started: after its first render, before its router listened (what the dashboard
// benchmark does: sign in, land on /ui/, go to /ui/#/logs at once). The view named must be the one shown, and a line
// an instance prints must appear in it.
test('a hash changed between the first render and the router listening: the view it names is shown, lines and all', { skip, timeout: 60_000 }, async () => {
  const m = randomUUID().slice(0, 8);
  const ctx = await browser!.browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const p = await ctx.newPage();
    const pageErrors = watchErrors(p);
    await signIn(p, project);
    // In the page: once #app has its first content (the first render committed; the router's effect runs only after
    // the first paint), go to #/logs — in the same microtask checkpoint, so its hashchange is queued before that paint.
    await p.addInitScript(`(() => {
      if (location.pathname !== '/ui/' || location.hash !== '') return;
      const obs = new MutationObserver(() => {
        const app = document.getElementById('app');
        if (!app || !app.firstChild) return;
        obs.disconnect();
        window.__changedAfterRender = { rendered: app.innerHTML.length > 0, logsShown: !!document.querySelector('.log-panel') };
        location.hash = '#/logs';
      });
      obs.observe(document, { childList: true, subtree: true });
    })()`);
    await p.reload({ waitUntil: 'load' });
    await p.locator('.conn-live').waitFor({ timeout: 30_000 });
    const changed = await until('the hash changed by the page', () => p.evaluate('window.__changedAfterRender'));
    assert.deepEqual(changed, { rendered: true, logsShown: false }, 'the hash changed after a first render of another view');
    assert.equal(await p.evaluate(() => (globalThis as unknown as PageGlobals).location.hash), '#/logs');
    await p.locator('.log-panel').waitFor({ timeout: 15_000 });
    assert.equal((await texts(p, 'main h1'))[0], 'Logs');
    await say(`late-hash-${m}`);
    await p.locator('.log-line', { hasText: `late-hash-${m}` }).waitFor({ timeout: 15_000 });
    assert.deepEqual(pageErrors, [], 'no errors in the page');
  } finally {
    await ctx.close();
  }
});

test('KV: JSON shown pretty, a secret masked until revealed, keys created and deleted (check-and-set)', { skip, timeout: 60_000 }, async () => {
  await openView(page, project.api, `#/kv?key=${encodeURIComponent('config/app.json')}`);
  const value = page.getByTestId('kv-value');
  await value.waitFor();
  assert.equal(await value.innerText(), JSON.stringify(APP, null, 2));
  await page.getByRole('button', { name: 'Show raw' }).click();
  assert.equal(await value.innerText(), JSON.stringify(APP));
  await page.getByRole('button', { name: 'Show pretty' }).click();
  await shot(page, 'kv-json');

  await openView(page, project.api, `#/kv?key=${encodeURIComponent('secrets/api-key')}`);
  await page.locator('.kv-detail .mask').waitFor();
  assert.ok(!(await page.content()).includes(SECRET), 'masked: the value is not in the page');
  await page.getByRole('button', { name: 'Reveal' }).click();
  await until('the revealed secret', async () => (await texts(page, '[data-testid="kv-value"]'))[0] === SECRET);
  await page.getByRole('button', { name: 'Hide' }).click();
  await page.locator('.kv-detail .mask').waitFor();

  // Create (only if absent), then delete.
  const key = `notes/${randomUUID().slice(0, 8)}`;
  await page.getByRole('button', { name: 'New key' }).click();
  await page.getByLabel('Key', { exact: true }).fill(key);
  await page.getByLabel('Value', { exact: true }).fill('hello <b>there</b>');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator(`.kv-detail[data-key="${key}"]`).waitFor({ timeout: 15_000 });
  assert.equal(await page.getByTestId('kv-value').innerText(), 'hello <b>there</b>', 'a value is text, markup and all');
  assert.equal(await (await fetch(`${project.api}/v1/kv/${key}?raw`)).text(), 'hello <b>there</b>');
  // The same key again: refused (it exists), not overwritten.
  await page.getByRole('button', { name: 'New key' }).click();
  await page.getByLabel('Key', { exact: true }).fill(key);
  await page.getByLabel('Value', { exact: true }).fill('other');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
  assert.equal(await (await fetch(`${project.api}/v1/kv/${key}?raw`)).text(), 'hello <b>there</b>');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.locator(`.kv-tree a[data-key="${key}"]`).click();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: `Really delete ${key}` }).click();
  await until('the key gone from the tree', async () => (await page.locator(`.kv-tree a[data-key="${key}"]`).count()) === 0);
  assert.equal((await fetch(`${project.api}/v1/kv/${key}`)).status, 404);
});

test('restart one instance from the service view: a new process, the restart in the events', { skip, timeout: 60_000 }, async () => {
  await openView(page, project.api, '#/service/printer');
  const card = page.locator('.instance[data-instance="printer.1"]');
  await card.waitFor();
  const pidOf = async () => (await card.locator('.facts div', { hasText: 'PID' }).locator('dd').innerText()).trim();
  const before = await pidOf();
  assert.match(before, /^\d+$/);
  await card.getByRole('button', { name: 'Restart' }).click();
  await page.locator('.notice-ok', { hasText: 'printer.1 restarted' }).waitFor({ timeout: 30_000 });
  await until('printer.1 running again as another process, passing', async () => {
    const pid = await pidOf();
    const badge = (await texts(page, '.instance[data-instance="printer.1"] .card-head .badge'))[0];
    return /^\d+$/.test(pid) && pid !== before && badge === 'passing';
  }, 30_000);
  await openView(page, project.api, '#/events');
  await until('its stop and start among the events', async () => {
    const rows = await texts(page, 'tr.event .event-message');
    return rows.some((m) => /printer\.1 stopp/.test(m)) && rows.filter((m) => /printer\.1 started/.test(m)).length >= 2;
  });
});

test('a lost session: the action says so plainly and the page turns read-only', { skip, timeout: 60_000 }, async () => {
  await openView(page, project.api, '#/service/printer');
  await page.locator('.instance').first().waitFor();
  await context.clearCookies();
  await page.getByLabel('Replicas').fill('2');
  await page.getByRole('button', { name: 'Scale', exact: true }).click();
  const alert = page.locator('.notice-error');
  await alert.waitFor();
  assert.match(await alert.innerText(), /not signed in.*machineroom up/s);
  await page.locator('.banner-readonly').waitFor();
  assert.equal((await status()).services.find((s) => s.name === 'printer')?.desired, 1);
  await shot(page, 'session-lost');
  await alert.getByRole('button', { name: 'Dismiss this message' }).click();
  await signIn(page, project);
});

test('a page on another origin cannot use the session: the same call from the dashboard works', { skip, timeout: 60_000 }, async () => {
  // Another site on this machine (same host, another port: "same-site", so the SameSite=Strict cookie goes along).
  otherOrigin = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><title>waiting</title><script>
      fetch(${JSON.stringify(`${project.api}/v1/machineroom/scale`)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
        headers: { 'content-type': 'text/plain' }, body: '{"printer":2}' })
        .then(() => { document.title = 'sent'; }, (e) => { document.title = 'failed ' + e; });
    </script>`);
  });
  const otherPort = await new Promise<number>((r) => otherOrigin!.listen(0, '127.0.0.1', () => r((otherOrigin!.address() as { port: number }).port)));
  const evil = await context.newPage();
  try {
    await evil.goto(`http://127.0.0.1:${otherPort}/`);
    await until('the cross-origin call sent', async () => (await evil.title()) === 'sent');
  } finally {
    await evil.close();
  }
  assert.equal((await status()).services.find((s) => s.name === 'printer')?.desired, 1, 'the other origin did not scale printer');

  // The dashboard itself, with the same cookie: allowed.
  await openView(page, project.api, '#/service/printer');
  const code = await page.evaluate(async () => (await fetch('/v1/machineroom/scale', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: '{"printer":2}' })).status);
  assert.equal(code, 200);
  await until('printer scaled to 2', async () => (await status()).services.find((s) => s.name === 'printer')?.desired === 2);
  await until('the page shows 2 instances', async () => (await page.locator('.instance').count()) === 2);
  await page.getByLabel('Replicas').fill('1');
  await page.getByRole('button', { name: 'Scale', exact: true }).click();
  await until('back to 1 instance', async () => (await page.locator('.instance').count()) === 1, 30_000);
});

test('keyboard: a skip link first, the views reachable by keyboard, every control labelled', { skip, timeout: 60_000 }, async () => {
  await openView(page, project.api, '#/');
  await page.reload(); // a fresh page: Tab starts from the top
  await page.locator('tr[data-service="printer"]').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } } }).document.activeElement.id), 'main');
  await page.getByRole('link', { name: 'Logs', exact: true }).focus();
  await page.keyboard.press('Enter');
  await until('the logs view', async () => (await page.evaluate(() => (globalThis as unknown as PageGlobals).location.hash)) === '#/logs');
  // The navigation marks the current view on the render after the hash change.
  await until('Logs marked as the current page', async () => (await page.getByRole('link', { name: 'Logs', exact: true }).getAttribute('aria-current')) === 'page');

  for (const hash of ['#/', '#/service/printer', '#/logs', `#/kv?key=${encodeURIComponent('config/app.json')}`, '#/events']) {
    await openView(page, project.api, hash);
    await page.locator('main h1').first().waitFor();
    const unlabelled = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<Record<string, unknown>> } }).document;
      const out: string[] = [];
      for (const el of Array.from(doc.querySelectorAll('button, input, select, textarea, a[href]'))) {
        const e = el as unknown as { labels?: ArrayLike<unknown> | null; getAttribute(n: string): string | null; textContent: string | null; outerHTML: string };
        const named = (e.labels && e.labels.length > 0) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (e.textContent ?? '').trim();
        if (!named) out.push(e.outerHTML.slice(0, 80));
      }
      return out;
    });
    assert.deepEqual(unlabelled, [], `unlabelled controls on ${hash}`);
  }
});

test('theme: the toggle goes light → dark → system, is remembered, and system follows the preference', { skip, timeout: 60_000 }, async () => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openView(page, project.api, '#/');
  const theme = () => page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.theme);
  const background = () => page.evaluate(() => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string }; document: { body: unknown } }).getComputedStyle((globalThis as unknown as { document: { body: unknown } }).document.body).backgroundColor);
  assert.equal(await theme(), 'light');
  const light = await background();
  // Each click re-renders the page, which then sets the theme: poll for it rather than read it at once.
  const themeBecomes = (want: string, what: string) => until(what, async () => (await theme()) === want);
  await page.getByRole('button', { name: /^Theme: system/ }).click();
  await themeBecomes('light', 'light chosen');
  await page.getByRole('button', { name: /^Theme: light/ }).click();
  await themeBecomes('dark', 'dark chosen');
  assert.notEqual(await background(), light, 'dark has another background');
  await page.reload();
  await page.locator('.conn-live').waitFor();
  assert.equal(await theme(), 'dark', 'remembered across a reload');
  await page.getByRole('button', { name: /^Theme: dark/ }).click();
  await themeBecomes('light', 'system again: the emulated preference is light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await until('system follows the preference', async () => (await theme()) === 'dark');
  await page.emulateMedia({ colorScheme: null });
  assert.deepEqual(errors, [], 'no errors in the page');
});
