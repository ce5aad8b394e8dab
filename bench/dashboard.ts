// Benchmark (not a test): the dashboard's first render and how long a log line takes to reach the page, measured in
// a real headless Chromium (Debian's `chromium` through playwright-core) with the page's own Performance API, against
// a real daemon. Issue 6, acceptance 4. In one run, on this machine:
//   1. first render, cold: a new browser context (empty cache) opens /ui/#/ signed in; from navigation start
//      (performance.timeOrigin) to the dashboard's `mr:first-render` mark (the overview drawn with the first status),
//      with the first contentful paint and the first status's arrival (`mr:first-status`) beside it;
//   2. first render, warm: the same page reloaded (assets cached: immutable);
//   3. log line latency, quiet: the `ticker` instance prints `bench-mark <n> <epoch ms>` (performance.timeOrigin +
//      performance.now() in the instance, just before console.log); on #/logs a MutationObserver notes when the line's
//      row enters the DOM and the next animation frame after it (timeOrigin + now), and a second EventSource in the
//      page when its message arrives (the daemon's share of the latency); latency = page time − mark;
//   4. the same while the ticker prints BENCH_CHATTER (500) other lines a second, ANSI colours and all.
// The project: ticker ×1 and web ×3 (node HTTP servers with HTTP checks), loopback machines, kernel-chosen ports. The
// page and the instance read the same wall clock (one machine). Prints a plain table and the same in Markdown
// (progress on stderr) and writes bench/results/dashboard-<ts>.json; asserts nothing. It stops what it started
// (`machineroom down`, the browser) at the end, even on failure or Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { quantile } from './bus-http.js';
import { freePort } from './bus-procs.js';
import { busyShare, markdown, table } from './report.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'machineroom.js');
const RESULTS_DIR = join(ROOT, 'bench', 'results');

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? Math.round(v) : fallback;
};
const RENDER_REPS = num('BENCH_REPS', 7);
const LOG_REPS = num('BENCH_LOG_REPS', 30);
const CHATTER = num('BENCH_CHATTER', 500);

function log(line: string): void {
  process.stderr.write(`bench:dashboard ${line}\n`);
}

// An instance that prints a timestamped marker on request, and background lines at a rate it is told.
const TICKER_JS = `
const http = require('http');
const E = '\\u001b';
let chatter;
let n = 0;
const s = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://ticker');
  if (u.pathname === '/health') return res.end('ok');
  if (u.pathname === '/mark') {
    console.log('bench-mark ' + u.searchParams.get('n') + ' ' + (performance.timeOrigin + performance.now()).toFixed(3));
    return res.end('marked');
  }
  if (u.pathname === '/chatter') {
    clearInterval(chatter);
    const rate = Number(u.searchParams.get('rate')) || 0;
    if (rate > 0) chatter = setInterval(() => {
      for (let i = 0; i < rate / 100; i++) console.log(E + '[36mGET' + E + '[0m /api/items/' + (n++) + ' ' + E + '[32m200' + E + '[0m ' + (n % 97) + 'ms user=bench trace=' + n.toString(16));
    }, 10);
    return res.end('rate ' + rate);
  }
  res.end('ticker');
});
s.listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => { clearInterval(chatter); s.close(() => process.exit(0)); setTimeout(() => process.exit(0), 300).unref(); });
`;
const WEB_JS = `
const http = require('http');
const s = http.createServer((req, res) => res.end(req.url === '/health' ? 'ok' : 'web ' + process.env.MR_INSTANCE_ID));
s.listen(Number(process.env.PORT), process.env.HOST, () => console.log('web listening on ' + process.env.HOST + ':' + process.env.PORT));
process.on('SIGTERM', () => { s.close(() => process.exit(0)); setTimeout(() => process.exit(0), 300).unref(); });
`;

let tmp = '';
let projectUp = false;
let browser: Browser | undefined;

function env(): NodeJS.ProcessEnv {
  return { ...process.env, MACHINEROOM_API_PORT: '0', MACHINEROOM_DNS_PORT: '0', MACHINEROOM_HTTP_PORT: '0', MACHINEROOM_HTTPS_PORT: '0', NO_COLOR: '1' };
}

function cli(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: join(tmp, 'project'), env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** A GET through the front door with the given Host. */
function frontDoor(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host: `${host}:${port}` }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function cleanup(): Promise<void> {
  await browser?.close().catch(() => undefined);
  browser = undefined;
  if (projectUp) {
    projectUp = false;
    const r = await cli(['down'], 60_000);
    if (r.code !== 0) log(`down exited ${r.code}: ${r.out.trim()}`);
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  log('interrupted: stopping');
  void cleanup().finally(() => process.exit(130));
});

/** Polls until `check` returns a value (or throws at the deadline). */
async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface RenderSample {
  firstRenderMs: number;
  firstStatusMs: number;
  fcpMs: number;
  domContentLoadedMs: number;
}

// Page-side code, as strings (it runs in the browser; the root tsconfig has no DOM types).
const READ_RENDER = `(() => {
  const mark = (n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint')?.startTime ?? NaN;
  return { firstRenderMs: mark('mr:first-render'), firstStatusMs: mark('mr:first-status'), fcpMs: fcp, domContentLoadedMs: nav ? nav.domContentLoadedEventEnd : NaN };
})()`;
const WATCH_MARKS = `(() => {
  window.__marks = {};
  const seen = (node) => {
    if (!(node instanceof HTMLElement)) return;
    const rows = node.classList.contains('log-line') ? [node] : Array.from(node.querySelectorAll('.log-line'));
    for (const row of rows) {
      const m = /bench-mark (\\d+) ([\\d.]+)/.exec(row.textContent || '');
      if (!m || window.__marks[m[1]]) continue;
      const entry = { mark: Number(m[2]), dom: performance.timeOrigin + performance.now() };
      window.__marks[m[1]] = entry;
      requestAnimationFrame((t) => (entry.frame = performance.timeOrigin + t));
    }
  };
  new MutationObserver((records) => { for (const r of records) r.addedNodes.forEach(seen); }).observe(document.body, { childList: true, subtree: true });
  // A second stream beside the page's own, to split the latency into the daemon's part (the message arrives) and the
  // page's (its row is drawn).
  window.__arrived = {};
  const es = new EventSource('/v1/machineroom/stream?tail=0');
  es.addEventListener('log', (e) => {
    const m = /bench-mark (\\d+) ([\\d.]+)/.exec(e.data);
    if (m && !window.__arrived[m[1]]) window.__arrived[m[1]] = performance.timeOrigin + performance.now() - Number(m[2]);
  });
  // Ready once the stream has sent its snapshots: by then it follows the logs (kv is the last snapshot).
  return new Promise((resolve) => es.addEventListener('kv', () => resolve(true), { once: true }));
})()`;
const readMark = (n: number) => `(() => {
  const e = window.__marks[${JSON.stringify(String(n))}];
  const a = window.__arrived[${JSON.stringify(String(n))}];
  return e && e.frame !== undefined && a !== undefined ? { streamMs: a, domMs: e.dom - e.mark, frameMs: e.frame - e.mark } : null;
})()`;

/** Reads the page's marks, relative to its navigation start (performance.timeOrigin). */
async function renderSample(page: Page): Promise<RenderSample> {
  // A function, not a string: Playwright polls a string predicate with eval, which the dashboard's CSP (script-src 'self')
  // refuses as soon as the first check is false (the mark not yet made); a function is compiled once, on the first check.
  await page.waitForFunction(() => performance.getEntriesByName('mr:first-render').length > 0, undefined, { timeout: 30_000 });
  return (await page.evaluate(READ_RENDER)) as RenderSample;
}

interface LogSample {
  /** The line's message arrived on a stream in the page. */
  streamMs: number;
  domMs: number;
  frameMs: number;
}

/** Installs the page-side watcher: each `bench-mark n t` row's DOM insertion time and next frame, by n. */
async function watchMarks(page: Page): Promise<void> {
  await page.evaluate(WATCH_MARKS);
}

async function logLatency(page: Page, port: number, from: number, reps: number): Promise<LogSample[]> {
  const out: LogSample[] = [];
  for (let i = from; i < from + reps; i++) {
    const code = await frontDoor(port, 'ticker.localhost', `/mark?n=${i}`);
    if (code !== 200) throw new Error(`ticker /mark answered ${code}`);
    const s = await until(`mark ${i} on the page`, async () => ((await page.evaluate(readMark(i))) as LogSample | null) ?? undefined).catch(async (err: Error) => {
      const seen = await page.evaluate('JSON.stringify({ rows: window.__marks, stream: window.__arrived })');
      throw new Error(`${err.message}; the page saw ${String(seen)}`);
    });
    out.push(s);
  }
  return out;
}

const stats = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
};
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');

async function main(): Promise<void> {
  const started = new Date();
  const load0 = loadavg();
  const busy0 = await busyShare(1000);
  const executablePath = process.env.MACHINEROOM_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!executablePath) throw new Error('no Chromium: apt-get install chromium (or set MACHINEROOM_CHROMIUM)');
  const assets = join(ROOT, 'dist', 'dashboard', 'assets');
  if (!existsSync(assets)) throw new Error('the dashboard is not built: run npm run build');
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
  const jsRaw = js.reduce((n, f) => n + readFileSync(join(assets, f)).length, 0);
  const jsGzip = js.reduce((n, f) => n + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);

  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'mr-bench-dash-')));
  const dir = join(tmp, 'project');
  mkdirSync(dir);
  const [tickerPort, webPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'ticker.js'), TICKER_JS);
  writeFileSync(join(dir, 'web.js'), WEB_JS);
  writeFileSync(
    join(dir, 'machineroom.yml'),
    [
      'name: bench-dashboard',
      'services:',
      '  ticker:',
      '    command: node ticker.js',
      `    port: ${tickerPort}`,
      '    health: { http: /health, interval: 1s }',
      '  web:',
      '    command: node web.js',
      '    replicas: 3',
      `    port: ${webPort}`,
      '    health: { http: /health, interval: 1s }',
      '',
    ].join('\n'),
  );
  log('up -d --wait');
  projectUp = true;
  const up = await cli(['up', '-d', '--wait']);
  if (up.code !== 0) throw new Error(`up failed: ${up.out}`);
  const record = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number; httpPort: number };
  const token = readFileSync(join(dir, '.machineroom', 'token'), 'utf8').trim();
  const base = `http://127.0.0.1:${record.apiPort}`;
  const login = `${base}/ui/login?token=${encodeURIComponent(token)}`;

  const args = ['--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE *.localhost , EXCLUDE localhost , EXCLUDE 127.0.0.1', '--no-proxy-server', '--disable-dev-shm-usage'];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  browser = await chromium.launch({ executablePath, headless: true, args });
  log(`Chromium ${browser.version()}`);

  // 1 and 2: first render, cold (a new context each time) then warm (reload).
  const cold: RenderSample[] = [];
  const warm: RenderSample[] = [];
  for (let i = 0; i < RENDER_REPS; i++) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    const page = await context.newPage();
    await page.goto(login); // the cookie, then /ui/ (a first load that also warms nothing for the next context)
    await page.goto(`${base}/ui/#/`, { waitUntil: 'load' });
    cold.push(await renderSample(page));
    await page.reload({ waitUntil: 'load' });
    warm.push(await renderSample(page));
    await context.close();
    log(`render ${i + 1}/${RENDER_REPS}: cold ${fmt(cold[i]!.firstRenderMs)} ms, warm ${fmt(warm[i]!.firstRenderMs)} ms`);
  }

  // 3 and 4: log lines, quiet then busy.
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const page = await context.newPage();
  await page.goto(login);
  await page.goto(`${base}/ui/#/logs`, { waitUntil: 'load' }); // from /ui/: only the hash changes
  await page.locator('.conn-live').waitFor();
  await page.locator('.log-panel').waitFor(); // the logs view, not the overview the page started on
  await watchMarks(page);
  log(`log latency, quiet: ${LOG_REPS} marks`);
  const quiet = await logLatency(page, record.httpPort, 0, LOG_REPS);
  if ((await frontDoor(record.httpPort, 'ticker.localhost', `/chatter?rate=${CHATTER}`)) !== 200) throw new Error('ticker /chatter failed');
  await page.locator('.log-line', { hasText: '/api/items/' }).first().waitFor();
  log(`log latency, ${CHATTER} lines/s: ${LOG_REPS} marks`);
  const busy = await logLatency(page, record.httpPort, 1000, LOG_REPS);
  const shown = (await page.evaluate("document.querySelectorAll('.log-line').length")) as number;
  await frontDoor(record.httpPort, 'ticker.localhost', '/chatter?rate=0');
  await context.close();
  const load1 = loadavg();

  const rows: Array<[string, number[]]> = [
    ['first render, cold (navigation → overview drawn)', cold.map((s) => s.firstRenderMs)],
    ['  first status arrived, cold', cold.map((s) => s.firstStatusMs)],
    ['  first contentful paint, cold', cold.map((s) => s.fcpMs)],
    ['first render, warm (reload, assets cached)', warm.map((s) => s.firstRenderMs)],
    ['  first contentful paint, warm', warm.map((s) => s.fcpMs)],
    ['log line → stream message in the page, quiet', quiet.map((s) => s.streamMs)],
    ['log line → row in the page, quiet', quiet.map((s) => s.domMs)],
    ['log line → next frame, quiet', quiet.map((s) => s.frameMs)],
    [`log line → stream message in the page, ${CHATTER} lines/s`, busy.map((s) => s.streamMs)],
    [`log line → row in the page, ${CHATTER} lines/s`, busy.map((s) => s.domMs)],
    [`log line → next frame, ${CHATTER} lines/s`, busy.map((s) => s.frameMs)],
  ];
  const headers = ['measure (ms)', 'median', 'p95', 'min', 'max', 'n'];
  const tableRows = rows.map(([name, xs]) => {
    const s = stats(xs);
    return [name, fmt(s.median), fmt(s.p95), fmt(s.min), fmt(s.max), String(s.n)];
  });
  const context_ = [
    `node ${process.version}, Chromium ${browser.version()} headless, ${cpus().length} cores, load ${load0.map((l) => l.toFixed(2)).join(' ')} → ${load1.map((l) => l.toFixed(2)).join(' ')}, busy ${(busy0 * 100).toFixed(0)}% before start`,
    `page JavaScript: ${js.length} file(s), ${(jsRaw / 1024).toFixed(1)} KB, ${(jsGzip / 1024).toFixed(1)} KB gzipped (budget 300 KB)`,
    `project: ticker ×1 + web ×3 on loopback machines; ${RENDER_REPS} cold/warm renders; ${LOG_REPS} marks quiet and ${LOG_REPS} at ${CHATTER} lines/s (${shown} rows on the page at the end)`,
  ];
  process.stdout.write(['', 'machineroom dashboard: first render and log line latency (in the browser, Performance API)', ...context_, '', table(headers, tableRows), ''].join('\n'));
  process.stdout.write(['', '### Dashboard: first render and log latency', '', ...context_.map((c) => `- ${c}`), '', markdown(headers, tableRows), ''].join('\n'));

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `dashboard-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        benchmark: 'dashboard',
        startedAt: started.toISOString(),
        node: process.version,
        chromium: browser.version(),
        cpus: cpus().length,
        loadavg: { start: load0, end: load1 },
        busyShareBeforeStart: busy0,
        settings: { renderReps: RENDER_REPS, logReps: LOG_REPS, chatterPerSecond: CHATTER },
        bundle: { files: js.length, rawBytes: jsRaw, gzipBytes: jsGzip },
        summary: Object.fromEntries(rows.map(([name, xs]) => [name.trim(), stats(xs)])),
        samples: { cold, warm, quiet, busy },
      },
      null,
      2,
    )}\n`,
  );
  log(`results written to ${file}`);
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench:dashboard failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
