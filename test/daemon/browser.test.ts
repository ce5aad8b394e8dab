// Issue 4, acceptance 6: headless Chromium (Debian's `chromium`, driven by playwright-core) opens
// http://alpha.localhost:<port>/ and sees the app, with no DNS or hosts-file set-up: Chromium resolves *.localhost to
// loopback itself, and every other name is made unresolvable so nothing could have come from the host's resolver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { frontDoorStatus, makeProject, runCli, cleanupProject, waitFor } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { launchBrowser, skipWithoutBrowser } from '../support/browser.js';
import type { TestBrowser } from '../support/browser.js';

const marker = `marker-${randomUUID()}`;

// The app: an HTML page with the marker, and the client address the front door reports (the last X-Forwarded-For hop).
const APP_JS = `
const http = require('http');
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const s = http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  const xff = String(req.headers['x-forwarded-for'] || '');
  const client = xff.split(',').pop().trim();
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end('<!doctype html><html><head><title>alpha ${marker}</title></head><body>' +
    '<h1>alpha says hello</h1><p id="marker">${marker}</p>' +
    '<p>front door client: <span id="client">' + esc(client) + '</span></p>' +
    '<p>host: <span id="host">' + esc(req.headers['x-forwarded-host'] || '') + '</span></p>' +
    '<p>instance: <span id="instance">' + esc(process.env.MR_INSTANCE_ID) + '</span></p></body></html>');
});
s.listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening on ' + process.env.HOST + ':' + process.env.PORT));
process.on('SIGTERM', () => { s.close(() => process.exit(0)); setTimeout(() => process.exit(0), 500).unref(); });
`;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

test('headless Chromium opens http://alpha.localhost:<port>/ and sees the app, with no DNS or hosts-file set-up', { skip: skipWithoutBrowser(), timeout: 180_000 }, async (t) => {
  const port = await freePort();
  const dir = makeProject({
    'app.js': APP_JS,
    'machineroom.yml': `name: browsertest\nservices:\n  alpha:\n    command: node app.js\n    port: ${port}\n    health: { http: /health, interval: 500ms }\n`,
  });
  let browser: TestBrowser | undefined;
  try {
    const up = await runCli(['up', '-d', '--wait'], { cwd: dir });
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const httpPort = (JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { httpPort: number }).httpPort;
    await waitFor('alpha answers through the front door', async () => (await frontDoorStatus(httpPort, `alpha.localhost:${httpPort}`)) === 200);

    browser = await launchBrowser();
    t.diagnostic(`Chromium ${browser.browser.version()} at ${browser.executablePath}`);

    // The app, by name.
    const page = await browser.newPage();
    const url = `http://alpha.localhost:${httpPort}/`;
    const res = await page.goto(url, { waitUntil: 'load' });
    assert.ok(res, `no response for ${url}`);
    const shot = await browser.screenshot(page, 'browser-alpha');
    t.diagnostic(`screenshot ${shot}`);
    assert.equal(res.status(), 200, `${url}: ${await page.content()}`);
    assert.equal(await page.title(), `alpha ${marker}`);
    assert.equal((await page.textContent('#marker'))?.trim(), marker);
    assert.match((await page.textContent('#instance')) ?? '', /:alpha\.1$/);
    assert.equal(await page.textContent('#host'), `alpha.localhost:${httpPort}`, 'the browser sent the .localhost name as Host');
    // Loopback on both ends: Chromium connected to 127.0.0.1 or ::1, and the front door saw the browser come from there.
    const server = await res.serverAddr();
    assert.ok(server && LOOPBACK.test(server.ipAddress.replace(/^\[(.*)\]$/, '$1')), `Chromium connected to ${JSON.stringify(server)}`);
    assert.equal(server.port, httpPort);
    const client = (await page.textContent('#client')) ?? '';
    assert.match(client, LOOPBACK, `the front door saw the browser at ${client}`);

    // The route index on the front door's own name (machineroom.localhost is the dashboard's) lists alpha.
    const index = await browser.newPage();
    const indexUrl = `http://localhost:${httpPort}/`;
    const indexRes = await index.goto(indexUrl, { waitUntil: 'load' });
    t.diagnostic(`screenshot ${await browser.screenshot(index, 'browser-route-index')}`);
    assert.equal(indexRes?.status(), 200, `${indexUrl}: ${await index.content()}`);
    assert.match((await index.textContent('body')) ?? '', /alpha\.localhost/, 'the index lists alpha');
    const links = await index.locator('a', { hasText: 'alpha.localhost' }).evaluateAll((as) => as.map((a) => (a as unknown as { href: string }).href));
    assert.ok(links.length > 0, 'the index links to alpha.localhost');
    t.diagnostic(`the index links alpha as ${links.join(', ')}`);

    // The resolver rules hold: a name outside .localhost does not resolve at all (nothing went to the host's resolver).
    const other = await browser.newPage();
    await assert.rejects(other.goto(`http://machineroom-browser-test.example:${httpPort}/`), /ERR_NAME_NOT_RESOLVED/);
  } finally {
    await browser?.close();
    await cleanupProject(dir);
  }
});
