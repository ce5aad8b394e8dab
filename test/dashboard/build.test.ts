// Issue 6, acceptance 4 and the page's safety rules, checked on the build `npm test` has just made (dist/dashboard)
// and on the dashboard's sources: the page's JavaScript is at most 300 KB gzipped; index.html has no inline script or
// style (the daemon's CSP allows neither); no source renders HTML from a string.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT } from '../support/cli.js';

const DIST = join(ROOT, 'dist', 'dashboard');
const SRC = join(ROOT, 'dashboard', 'src');
/** The most gzipped JavaScript the page may load (acceptance 4). */
const JS_BUDGET_BYTES = 300 * 1024;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('the built page loads its JavaScript and CSS from /ui/assets/ only: no inline script, no inline style', () => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  assert.ok(scripts.length >= 1, 'index.html loads a script');
  for (const [, attrs, body] of scripts) {
    assert.match(attrs!, /\bsrc="\/ui\/assets\/[\w.-]+\.js"/, `a script with a src under /ui/assets/: <script${attrs}>`);
    assert.equal(body!.trim(), '', 'no inline script');
  }
  assert.doesNotMatch(html, /<style\b/i, 'no <style> element');
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'no style attribute');
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handler');
  for (const [, href] of html.matchAll(/<link\b[^>]*\bhref="([^"]+)"/gi)) {
    assert.ok(href!.startsWith('/ui/assets/') || href!.startsWith('data:'), `a link to ${href}`);
  }
});

test(`the page's JavaScript is at most ${JS_BUDGET_BYTES / 1024} KB gzipped`, (t) => {
  const js = filesUnder(join(DIST, 'assets')).filter((f) => f.endsWith('.js'));
  assert.ok(js.length > 0, 'the build has JavaScript');
  let raw = 0;
  let gzipped = 0;
  for (const f of js) {
    const bytes = readFileSync(f);
    raw += bytes.length;
    gzipped += gzipSync(bytes, { level: 9 }).length;
  }
  t.diagnostic(`${js.length} file(s): ${(raw / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped`);
  assert.ok(gzipped <= JS_BUDGET_BYTES, `${(gzipped / 1024).toFixed(1)} KB gzipped is over the budget`);
});

test('no dashboard source makes HTML from a string or evaluates code; styles are set through CSSOM objects only', () => {
  const banned: Array<[RegExp, string]> = [
    [/dangerouslySetInnerHTML/, 'dangerouslySetInnerHTML'],
    [/\.innerHTML\b|\.outerHTML\b/, 'innerHTML/outerHTML'],
    [/insertAdjacentHTML|createContextualFragment|DOMParser/, 'HTML parsing'],
    [/document\.write/, 'document.write'],
    [/\beval\s*\(|new Function\s*\(/, 'eval'],
    [/\bstyle=\{?\s*["'`]/, 'a style string'],
    [/setAttribute\(\s*['"]style['"]/, 'a style attribute'],
    [/\.cssText\b/, 'cssText'],
  ];
  const sources = filesUnder(SRC).filter((f) => /\.(ts|tsx)$/.test(f));
  assert.ok(sources.length > 10, 'the sources were found');
  for (const f of sources) {
    const text = readFileSync(f, 'utf8');
    for (const [re, what] of banned) assert.doesNotMatch(text, re, `${relative(ROOT, f)} uses ${what}`);
  }
});
