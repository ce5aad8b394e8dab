// Issue 6, acceptance 1 and 2: the dashboard in a real headless Chromium against the real daemon running the seed
// demo (embedded PostgreSQL, alpha ×2, beta). One `up` serves every test below, in order; `after` stops it all.
// Every view is saved as a screenshot in both themes under test-artifacts/dashboard/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { cleanupProject } from '../support/cli.js';
import { launchBrowser, skipWithoutBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';
import { DASHBOARD_BROWSER_ARGS, copySeedDemo, openView, pathWithoutPostgres, shot, signIn, texts, until, upProject, viaFrontDoor, watchErrors } from './support.js';
import type { PageGlobals, UpProject } from './support.js';

const skip = skipWithoutBrowser();
const PASSWORD_KEY = 'postgres/host_count/password';

let dir: string | undefined;
let project: UpProject;
let browser: TestBrowser | undefined;
let context: BrowserContext;
let page: Page;
let errors: string[] = [];

/** One request through the front door with the Host a browser would send. */
const frontDoor = (host: string, path = '/', method = 'GET', body?: string) => viaFrontDoor(project.httpPort, host, path, method, body);

/** Sets credentials through beta's API, as a person using beta's page would (a change made outside the dashboard). */
async function setThroughBeta(change: { username?: string; password?: string }): Promise<void> {
  const r = await frontDoor('beta.localhost', '/api/credentials', 'PUT', JSON.stringify(change));
  assert.equal(r.status, 200, r.body);
}

/** A KV value straight from the bus's Consul API (raw). */
async function busValue(key: string): Promise<string | undefined> {
  const res = await fetch(`${project.api}/v1/kv/${key}?raw`);
  return res.status === 200 ? await res.text() : undefined;
}

/** The alpha instance cards' badges and check statuses on the service page. */
async function alphaHealth(): Promise<{ badges: string[]; checks: string[] }> {
  return { badges: await texts(page, '.instance .card-head .badge'), checks: await page.locator('.instance tr[data-check]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status') ?? '')) };
}

before(async () => {
  if (skip) return;
  dir = copySeedDemo();
  project = await upProject(dir, { PATH: pathWithoutPostgres() });
  browser = await launchBrowser({ args: DASHBOARD_BROWSER_ARGS });
  context = await browser.browser.newContext({ viewport: { width: 1366, height: 860 } });
  page = await context.newPage();
  errors = watchErrors(page);
});

after(async () => {
  await browser?.close();
  if (dir) await cleanupProject(dir);
});

test('overview: every service healthy, instances on their machines, routes as links, traffic, the database URL', { skip, timeout: 120_000 }, async () => {
  await signIn(page, project);
  await openView(page, project.api, '#/');
  assert.equal(await page.locator('.banner-readonly').count(), 0, 'signed in: no read-only banner');
  await until('alpha and beta rows, each all healthy, and the database healthy', async () => {
    const rows = await page.locator('tr[data-service]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-service')));
    const badges = await texts(page, 'tr[data-service] td .badge');
    const db = await texts(page, '[data-database="database"] .badge');
    return rows.join() === 'alpha,beta' && badges.length === 2 && badges.every((b) => /^(\d+)\/\1 healthy$/.test(b)) && db.join() === '1/1 healthy';
  }, 60_000);
  assert.equal((await texts(page, 'tr[data-service="alpha"] td .badge'))[0], '2/2 healthy');
  // Each instance with its machine address (loopback machines: a 127.x address of its own, port 3000 for both).
  const chips = await texts(page, 'tr[data-service="alpha"] .chip .mono');
  assert.equal(chips.length, 2);
  for (const c of chips) assert.match(c, /^127\.\d+\.\d+\.\d+:3000$/);
  assert.notEqual(chips[0], chips[1], 'each replica on its own machine');
  // Routes are links to the front door.
  const alphaLinks = await page.locator('tr[data-service="alpha"] .links a').evaluateAll((as) => as.map((a) => (a as unknown as { href: string }).href));
  assert.ok(alphaLinks.includes(`http://alpha.localhost:${project.httpPort}/`), `alpha's links: ${alphaLinks.join(', ')}`);
  // The database resource with its connection URL (no password in it).
  const dbUrl = (await texts(page, '[data-database="database"] code'))[0] ?? '';
  assert.match(dbUrl, /^postgres:\/\/host_count@127\.[\d.]+:5432\/host_count$/);
  // Requests through the front door show up as requests per second (from the traffic samples pushed every second).
  await until('alpha shows requests per second', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await frontDoor('alpha.localhost')).status, 200);
    const cell = (await texts(page, 'tr[data-service="alpha"] td.num .rate'))[0] ?? '';
    return /^[1-9][\d.]*k?\/s$|^0\.[1-9]\/s$/.test(cell.trim()) ? cell : undefined;
  }, 30_000);
  await shot(page, 'overview-signed-in');
});

test('scaling alpha to 3 from the service view shows 3 healthy instances with their checks', { skip, timeout: 120_000 }, async () => {
  await openView(page, project.api, '#/service/alpha');
  const replicas = page.getByLabel('Replicas');
  assert.equal(await replicas.inputValue(), '2');
  await replicas.fill('3');
  await page.getByRole('button', { name: 'Scale', exact: true }).click();
  await page.locator('.notice-ok', { hasText: 'alpha scaled to 3' }).waitFor({ timeout: 30_000 });
  await until('3 alpha instances, all passing', async () => {
    const h = await alphaHealth();
    const head = (await texts(page, 'h1 .badge'))[0];
    return h.badges.length === 3 && h.badges.every((b) => b === 'passing') && h.checks.length >= 3 && h.checks.every((c) => c === 'passing') && head === '3/3 healthy';
  }, 90_000);
  const outputs = await texts(page, '.instance tr[data-check] .check-output');
  assert.ok(outputs.every((o) => o.length > 0 && o !== '—'), `every check shows its output: ${JSON.stringify(outputs)}`);
  await shot(page, 'service-alpha-scaled');
});

test('a wrong database password set in the KV editor turns alpha failing; restoring it turns alpha healthy again', { skip, timeout: 180_000 }, async () => {
  const password = await busValue(PASSWORD_KEY);
  assert.ok(password, 'the demo published a password');

  await openView(page, project.api, `#/kv?key=${encodeURIComponent(PASSWORD_KEY)}`);
  await page.locator(`.kv-detail[data-key="${PASSWORD_KEY}"]`).waitFor();
  // A secret: masked, and its value nowhere in the page until revealed.
  await page.locator('.kv-detail .mask').waitFor();
  assert.ok(!(await page.content()).includes(password), 'the secret is not in the page before it is revealed');
  await page.getByRole('button', { name: 'Reveal' }).click();
  await until('the revealed password', async () => (await texts(page, '[data-testid="kv-value"]'))[0] === password);

  try {
    await page.getByRole('button', { name: 'Edit' }).click();
    const editor = page.getByTestId('kv-editor');
    assert.equal(await editor.inputValue(), password);
    await editor.fill('not-the-password');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.notice-ok', { hasText: `Saved ${PASSWORD_KEY}` }).waitFor({ timeout: 15_000 });
    assert.equal(await busValue(PASSWORD_KEY), 'not-the-password');

    await openView(page, project.api, '#/service/alpha');
    await until('every alpha check critical', async () => {
      const h = await alphaHealth();
      return h.badges.length === 3 && h.badges.every((b) => b === 'critical') && h.checks.length >= 3 && h.checks.every((c) => c === 'critical');
    }, 60_000);
    const outputs = await texts(page, '.instance tr[data-status="critical"] .check-output');
    assert.ok(outputs.some((o) => /credential|password/i.test(o)), `the check output says why: ${JSON.stringify(outputs)}`);
    await shot(page, 'service-alpha-failing');
    await openView(page, project.api, '#/');
    await until('the overview shows alpha failing', async () => (await texts(page, 'tr[data-service="alpha"] td .badge'))[0] === '0/3 healthy');
    await shot(page, 'overview-alpha-failing');

    await openView(page, project.api, `#/kv?key=${encodeURIComponent(PASSWORD_KEY)}`);
    await page.getByRole('button', { name: 'Edit' }).click(); // a masked secret is revealed to be edited
    await until('the editor holds the wrong password', async () => (await page.getByTestId('kv-editor').inputValue()) === 'not-the-password');
    await page.getByTestId('kv-editor').fill(password);
    await page.getByRole('button', { name: 'Save' }).click();
    await until('the password saved back', async () => (await busValue(PASSWORD_KEY)) === password, 15_000);

    await openView(page, project.api, '#/service/alpha');
    await until('every alpha check passing again', async () => {
      const h = await alphaHealth();
      return h.badges.length === 3 && h.badges.every((b) => b === 'passing') && h.checks.every((c) => c === 'passing');
    }, 60_000);
  } finally {
    // Whatever happened, the tests after this one need alpha's password back.
    if ((await busValue(PASSWORD_KEY)) !== password) await setThroughBeta({ password });
  }
});

test('a concurrent change of the key being edited shows a conflict instead of being overwritten', { skip, timeout: 120_000 }, async () => {
  const password = (await busValue(PASSWORD_KEY))!;
  const theirs = `theirs-${Date.now().toString(36)}`;
  await openView(page, project.api, `#/kv?key=${encodeURIComponent(PASSWORD_KEY)}`);
  await page.getByRole('button', { name: 'Edit' }).click();
  await until('the editor holds the password', async () => (await page.getByTestId('kv-editor').inputValue()) === password);
  const indexBefore = Number((await texts(page, '[data-testid="kv-modify-index"]'))[0]);

  try {
    // Someone else writes the key meanwhile, through beta's page.
    await setThroughBeta({ password: theirs });
    await until('the page sees the key move on', async () => Number((await texts(page, '[data-testid="kv-modify-index"]'))[0]) > indexBefore);
    await page.getByRole('status').filter({ hasText: 'changed since you began editing' }).waitFor();

    await page.getByRole('button', { name: 'Save' }).click();
    const conflict = page.getByTestId('kv-conflict');
    await conflict.waitFor({ timeout: 15_000 });
    assert.match(await conflict.innerText(), /changed by someone else/);
    assert.ok(!(await conflict.innerText()).includes(theirs), 'their value is a secret: not shown in the conflict either');
    await shot(page, 'kv-conflict');
    assert.equal(await busValue(PASSWORD_KEY), theirs, 'the other change was not overwritten');

    // Knowing it, overwrite on purpose (a CAS write at their index): alpha gets its password back.
    await page.getByRole('button', { name: 'Overwrite with mine' }).click();
    await until('the password written back', async () => (await busValue(PASSWORD_KEY)) === password, 15_000);
    await page.getByTestId('kv-conflict').waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('kv-editor').count(), 0, 'the editor closed');
    await until('alpha passing with the password back', async () => {
      const checks = (await (await fetch(`${project.api}/v1/health/checks/alpha`)).json()) as { Status: string }[];
      return checks.length === 3 && checks.every((c) => c.Status === 'passing');
    }, 60_000);
  } finally {
    if ((await busValue(PASSWORD_KEY)) !== password) await setThroughBeta({ password });
  }
});

test('a line an instance prints appears in the logs view, and a line with <script> renders as text', { skip, timeout: 120_000 }, async () => {
  const marker = `mr${Date.now().toString(36)}`;
  const username = `<script>window.__${marker}=1</script>`;
  await openView(page, project.api, '#/logs');
  // beta prints "set username=<script>… in KV …" and alpha "credentials changed: user=<script>…".
  await setThroughBeta({ username });
  try {
    const line = page.locator('.log-line[data-source="beta.1"]', { hasText: `window.__${marker}=1` });
    await until('beta\'s line in the logs view', async () => (await line.count()) > 0, 30_000);
    const text = (await line.first().locator('.log-text').innerText()).trim();
    assert.ok(text.includes(username), `the line shows the markup as text: ${text}`);
    assert.equal(await page.locator('.log-scroll script').count(), 0, 'no script element was made from a log line');
    assert.equal(await page.evaluate((m) => (globalThis as unknown as Record<string, unknown>)[`__${m}`], marker), undefined, 'nothing ran');
    await until('alpha\'s line about it too', async () => (await page.locator('.log-line[data-source^="alpha."]', { hasText: marker }).count()) > 0, 30_000);

    // The text filter keeps only the lines with the marker.
    await page.getByLabel('Text').fill(marker);
    await until('only matching lines', async () => {
      const lines = await texts(page, '.log-line .log-text');
      return lines.length >= 2 && lines.every((l) => l.includes(marker));
    });
    await shot(page, 'logs-script-as-text');
    await page.getByLabel('Text').fill('');
  } finally {
    await setThroughBeta({ username: 'host_count' });
  }
  await until('alpha passing again with its username back', async () => {
    const res = await fetch(`${project.api}/v1/health/checks/alpha`);
    const checks = (await res.json()) as { Status: string }[];
    return checks.length === 3 && checks.every((c) => c.Status === 'passing');
  }, 60_000);
});

test('the events view lists the scaling and the health changes in time order', { skip, timeout: 60_000 }, async () => {
  await openView(page, project.api, '#/events');
  await until('scaled, unhealthy and healthy events for alpha', async () => {
    const types = await page.locator('tr.event').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')));
    return types.includes('scaled') && types.includes('unhealthy') && types.includes('healthy') && types.includes('started');
  });
  assert.ok((await texts(page, 'tr.event[data-type="scaled"] .event-message')).some((m) => /alpha.*2.*3/.test(m)));
  // Newest first: the times read down in non-increasing order.
  const times = await page.locator('tr.event time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime') ?? '')));
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! >= times[i]!, 'newest first');
  await page.getByRole('button', { name: 'Newest first' }).click();
  const ascending = await page.locator('tr.event time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime') ?? '')));
  for (let i = 1; i < ascending.length; i++) assert.ok(ascending[i - 1]! <= ascending[i]!, 'oldest first after the toggle');
  await page.getByRole('button', { name: 'Oldest first' }).click();
});

test('through the front door at machineroom.localhost the dashboard opens read-only without a session', { skip, timeout: 60_000 }, async () => {
  const other = await context.newPage();
  const otherErrors = watchErrors(other);
  try {
    const base = `http://machineroom.localhost:${project.httpPort}`;
    await openView(other, base, '#/');
    await until('the services through the front door', async () => (await other.locator('tr[data-service]').count()) === 2);
    await other.locator('.banner-readonly').waitFor();
    assert.match(await other.locator('.banner-readonly').innerText(), /machineroom up|machineroom dashboard/);
    await shot(other, 'overview-front-door-read-only');
    assert.deepEqual(otherErrors, []);
  } finally {
    await other.close();
  }
});

test('screenshots of every view, light and dark', { skip, timeout: 120_000 }, async () => {
  const views: Array<[string, string, string]> = [
    ['overview', '#/', 'tr[data-service="alpha"]'],
    ['service', '#/service/alpha', '.instance'],
    ['database', '#/service/database', '.instance'],
    ['logs', '#/logs', '.log-line'],
    ['kv', `#/kv?key=${encodeURIComponent('postgres/host_count/username')}`, '.kv-detail'],
    ['events', '#/events', 'tr.event'],
  ];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, hash, ready] of views) {
      await openView(page, project.api, hash);
      await page.locator(ready).first().waitFor();
      assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.theme), scheme, 'the page follows the system theme');
      await shot(page, `${name}-${scheme}`, name !== 'logs');
    }
  }
  await page.emulateMedia({ colorScheme: null });
  assert.deepEqual(errors, [], 'no errors in the page');
});
