// Test support: a real headless Chromium (Debian's `chromium`, which .ci/run installs) driven by playwright-core.
// No browser on this machine: under CI=true the test fails saying so; elsewhere it is skipped with how to install one.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ROOT } from './cli.js';

/** Where a browser is looked for, in order: $MACHINEROOM_CHROMIUM, then Debian's and Ubuntu's names. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

const INSTALL_HINT = 'apt-get install chromium (or set MACHINEROOM_CHROMIUM to a Chromium executable)';

/** The Chromium executable to use, or undefined when there is none. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.MACHINEROOM_CHROMIUM;
  if (fromEnv) return fromEnv; // named explicitly: used as is, so a wrong path fails loudly rather than falling back
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

/**
 * The `skip` option for a browser test: a message saying how to install Chromium when there is none here, else false.
 * Under CI=true it is always false, so a missing browser fails the test (in launchBrowser) instead of skipping it.
 */
export function skipWithoutBrowser(): string | false {
  if (findChromium() || process.env.CI === 'true') return false;
  return `no Chromium found (looked at $MACHINEROOM_CHROMIUM, ${CHROMIUM_CANDIDATES.join(', ')}): ${INSTALL_HINT}`;
}

/**
 * Chromium's arguments: no sandbox as root (Chromium refuses to start sandboxed as root); every host name but localhost
 * and *.localhost made unresolvable, so nothing reaches the host's resolver or the network (Chromium resolves
 * *.localhost to loopback itself); no proxy; /tmp instead of a possibly small /dev/shm.
 */
export function chromiumArgs(): string[] {
  const args = ['--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE *.localhost , EXCLUDE localhost', '--no-proxy-server', '--disable-dev-shm-usage'];
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return args;
}

/** A launched headless Chromium with one context; close() is safe to call more than once and after a failed launch. */
export interface TestBrowser {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly executablePath: string;
  /** A new page (tab) in the browser's context. */
  newPage(): Promise<Page>;
  /** Saves a full-page screenshot of `page` to test-artifacts/<name>.png and returns the path. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launches headless Chromium; throws naming what is missing when there is no browser (the CI case). */
export async function launchBrowser(opts: { args?: string[]; timeoutMs?: number } = {}): Promise<TestBrowser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(`no Chromium to run the browser tests with (looked at $MACHINEROOM_CHROMIUM, ${CHROMIUM_CANDIDATES.join(', ')}): ${INSTALL_HINT}; .ci/run installs it`);
  }
  if (!existsSync(executablePath)) throw new Error(`MACHINEROOM_CHROMIUM=${executablePath}: no such file; ${INSTALL_HINT}`);
  const browser = await chromium.launch({ executablePath, headless: true, args: [...chromiumArgs(), ...(opts.args ?? [])], timeout: opts.timeoutMs ?? 60_000 });
  let context: BrowserContext;
  try {
    context = await browser.newContext();
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
  let closed = false;
  return {
    browser,
    context,
    executablePath,
    newPage: () => context.newPage(),
    async screenshot(page, name) {
      const path = artifactPath(`${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

/** The repository's test-artifacts/ directory (git-ignored), created on demand. */
export function artifactsDir(): string {
  const dir = join(ROOT, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A path for an artifact (screenshot, trace) under test-artifacts/. */
export function artifactPath(name: string): string {
  return join(artifactsDir(), name.replace(/[^\w.-]+/g, '-'));
}
