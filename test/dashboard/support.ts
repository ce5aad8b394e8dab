// Test support for the dashboard: a project brought up for a browser, signing in through the login URL, screenshots
// into test-artifacts/dashboard/, and reading the page the way a person does (text, roles), polled to deadlines.
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, makeProject, runCli, testEnv, waitFor } from '../support/cli.js';
import type { CliResult } from '../support/cli.js';
import type { DaemonInfo, RoomStatus, Traffic } from '../../src/client/index.js';
import type { LogLine, MachineroomEvent } from '../../src/supervisor/index.js';
import type { KvSnapshot, KvValueView } from '../../src/dashboard-server/index.js';
import type { DaemonInfoView, EventView, KvSnapshotView, KvValueView as KvValueWire, LogLineView, RoomStatusView, TrafficView } from '../../dashboard/src/api/wire.js';
import { frontDoorRequest } from '../support/front-door.js';
import type { FrontDoorAnswer } from '../support/front-door.js';

/**
 * Chromium's resolver rules for the dashboard tests: as test/support/browser.ts's (every name unresolvable but
 * localhost and *.localhost), and 127.0.0.1 too, the control listener's address in the login URL `up` prints (an IP
 * literal, so nothing reaches a resolver; Chromium's last --host-resolver-rules wins).
 */
export const DASHBOARD_BROWSER_ARGS = ['--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE *.localhost , EXCLUDE localhost , EXCLUDE 127.0.0.1'];

/** A project that `up -d --wait` brought up, with what a browser needs to reach its dashboard. */
export interface UpProject {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The control listener: http://127.0.0.1:<api port> (the dashboard is at /ui/). */
  api: string;
  apiPort: number;
  /** The front door's HTTP port. */
  httpPort: number;
  /** The control token (.machineroom/token). */
  token: string;
  cli(args: string[], timeoutMs?: number): Promise<CliResult>;
  /** The instances' last lines and the daemon's last events, for a failure message. */
  diagnose(): string;
}

/** PATH without any directory that holds initdb or postgres, so the demo uses its embedded PostgreSQL. */
export function pathWithoutPostgres(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && !existsSync(join(d, 'initdb')) && !existsSync(join(d, 'postgres')))
    .join(delimiter);
}

/** A temporary copy of examples/seed-demo, ready for `up` (its apps resolve pg from the repository's node_modules). */
export function copySeedDemo(): string {
  const dir = makeProject({}, 'mr-dash-');
  cpSync(join(ROOT, 'examples', 'seed-demo'), dir, { recursive: true, filter: (src) => !src.includes('.machineroom') && !src.includes('node_modules') });
  // The server runs as an unprivileged user when the tests run as root: it must be able to reach the project dir.
  chmodSync(dir, 0o755);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Runs `up -d --wait` in `dir` (any free ports) and reads where the daemon listens. */
export async function upProject(dir: string, extraEnv: Record<string, string> = {}): Promise<UpProject> {
  const env = testEnv(extraEnv);
  const cli = (args: string[], timeoutMs = 180_000) => runCli(args, { cwd: dir, env, timeoutMs });
  const diagnose = (): string => {
    const logs = join(dir, '.machineroom', 'logs');
    const tail = (file: string, n: number) => {
      try {
        return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
      } catch {
        return '(none)';
      }
    };
    const files = existsSync(logs) ? readdirSync(logs) : [];
    return [...files.map((f) => `--- ${f}\n${tail(join(logs, f), 15)}`), `--- events\n${tail(join(dir, '.machineroom', 'events.jsonl'), 40)}`].join('\n');
  };
  const up = await cli(['up', '-d', '--wait']);
  if (up.code !== 0) throw new Error(`up failed (${up.code}):\n${up.stdout}\n${up.stderr}\n${diagnose()}`);
  const record = JSON.parse(readFileSync(join(dir, '.machineroom', 'daemon.json'), 'utf8')) as { apiPort: number; httpPort: number };
  const token = readFileSync(join(dir, '.machineroom', 'token'), 'utf8').trim();
  return { dir, env, api: `http://127.0.0.1:${record.apiPort}`, apiPort: record.apiPort, httpPort: record.httpPort, token, cli, diagnose };
}

/** One request through the front door on `port` with the Host a browser would send (`host`, without the port). */
export function viaFrontDoor(port: number, host: string, path = '/', method = 'GET', body?: string): Promise<FrontDoorAnswer> {
  return frontDoorRequest(port, `${host}:${port}`, path, method, body);
}

/** Opens the login URL `up` prints (it sets the session cookie and redirects to /ui/). */
export async function signIn(page: Page, project: Pick<UpProject, 'api' | 'token'>): Promise<void> {
  const res = await page.goto(`${project.api}/ui/login?token=${encodeURIComponent(project.token)}`, { waitUntil: 'load' });
  if (!res || !page.url().endsWith('/ui/')) throw new Error(`signing in did not land on /ui/: ${res?.status()} at ${page.url()}`);
}

/** test-artifacts/dashboard/ (git-ignored), created on demand. */
export function shotsDir(): string {
  const dir = join(ROOT, 'test-artifacts', 'dashboard');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Saves a screenshot of the page as test-artifacts/dashboard/<name>.png and returns its path. */
export async function shot(page: Page, name: string, fullPage = true): Promise<string> {
  const path = join(shotsDir(), `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage });
  return path;
}

/** The few page globals the tests read in page.evaluate (the tests compile without the DOM's types). */
export interface PageGlobals {
  location: { hash: string };
  document: { documentElement: { dataset: Record<string, string | undefined> }; title: string };
  localStorage: { getItem(key: string): string | null };
}

/** Goes to a dashboard view (a hash route such as "#/kv?key=a") and waits until the page is live on the stream. */
export async function openView(page: Page, base: string, hash: string): Promise<void> {
  const url = `${base}/ui/${hash}`;
  if (page.url().startsWith(`${base}/ui/`)) {
    await page.evaluate((h) => {
      (globalThis as unknown as PageGlobals).location.hash = h;
    }, hash);
  }
  else await page.goto(url, { waitUntil: 'load' });
  await page.locator('.conn-live').waitFor({ timeout: 30_000 });
}

/** The visible text of everything matching `selector`, trimmed. */
export async function texts(page: Page, selector: string): Promise<string[]> {
  return (await page.locator(selector).allInnerTexts()).map((t) => t.trim());
}

/** Polls `fn` against the page until it returns a truthy value (page errors count as "not yet"). */
export function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 30_000): Promise<NonNullable<T>> {
  return waitFor(what, fn, timeoutMs, 100);
}

/** Collects the page's uncaught errors and console errors, to assert there were none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A failed request the page handled (a 401/409 it shows) is logged by Chromium too: those are expected.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

// The daemon's own types must still fit what the page reads (dashboard/src/api/wire.d.ts): checked by tsc when the
// tests compile, so a change on the daemon side that the page does not know about fails `npm test` at once.
type Fits<A extends B, B> = [A, B];
/** Each pair: the daemon's type, then the page's. A mismatch is a compile error here. */
export type DaemonTypesFitThePage = [
  Fits<RoomStatus, RoomStatusView>,
  Fits<DaemonInfo, DaemonInfoView>,
  Fits<Traffic, TrafficView>,
  Fits<MachineroomEvent, EventView>,
  Fits<LogLine, LogLineView>,
  Fits<KvSnapshot, KvSnapshotView>,
  Fits<KvValueView, KvValueWire>,
];
