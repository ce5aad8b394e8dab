// /ui on the control listener: the built dashboard's files (index.html and Vite's hashed assets) and /ui/login, which
// trades the control token for the session cookie. The client routes by hash, so only files are served here.
import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { bufferedResponse } from '../http/index.js';
import { PACKAGE_ROOT } from '../client/index.js';
import { contentTypeOf } from './content-types.js';
import { uiHeaders } from './security-headers.js';
import { sameSecret, sessionCookie } from './session.js';

/** What `GET /ui/` says when there is no build to serve. */
export const NOT_BUILT_MESSAGE = 'the dashboard is not built: run npm run build';

/** Where the built dashboard is: MACHINEROOM_DASHBOARD_DIR (a build elsewhere, and tests), else dist/dashboard/ in the package. */
export function defaultDashboardDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.MACHINEROOM_DASHBOARD_DIR;
  return configured ? resolve(configured) : join(PACKAGE_ROOT, 'dist', 'dashboard');
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return bufferedResponse(body + '\n', { status, headers: uiHeaders({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers }) });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The 401 page of /ui/login: text only (the CSP allows no inline style), saying how to get a working link. */
function loginRefused(reason: string): Response {
  const html =
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>machineroom — sign-in needed</title></head><body>\n' +
    `<h1>This dashboard link does not work</h1>\n<p>${escapeHtml(reason)}</p>\n` +
    '<p>Open the dashboard URL that <code>machineroom up</code> printed, or run <code>machineroom dashboard</code> in the project to print it (<code>machineroom dashboard --open</code> opens it).</p>\n' +
    '</body></html>\n';
  return bufferedResponse(html, { status: 401, headers: uiHeaders({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }) });
}

/** Resolves `/ui/<rest>` to a file inside `dir`, or undefined for anything outside it or malformed. */
function fileFor(dir: string, rest: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const file = resolve(dir, '.' + sep + decoded);
  const rel = relative(dir, file);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).some((p) => p.startsWith('.'))) return undefined;
  return file;
}

/** Reads a regular file, or undefined when there is none. */
async function readRegularFile(file: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
    return await readFile(file);
  } catch {
    return undefined;
  }
}

/** Serves /ui, /ui/, /ui/login and the build's files from `dir`; `token` is the control token. */
export function createUiHandler(opts: { dir: string; token: string; session: string }): (req: Request) => Promise<Response> {
  const dir = resolve(opts.dir);
  return async (req) => {
    const url = new URL(req.url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, `${req.method} is not allowed on ${url.pathname}; the dashboard's files are read with GET`, { allow: 'GET, HEAD' });
    if (url.pathname === '/ui') return new Response(null, { status: 308, headers: uiHeaders({ location: `/ui/${url.search}` }) });
    if (url.pathname === '/ui/login') {
      const given = url.searchParams.get('token');
      if (!given) return loginRefused('It carries no token.');
      if (!sameSecret(given, opts.token)) return loginRefused("Its token is not this project's control token (the link may be from another project, or .machineroom/token was replaced).");
      return new Response(null, { status: 303, headers: uiHeaders({ location: '/ui/', 'set-cookie': sessionCookie(req, opts.session), 'cache-control': 'no-store' }) });
    }
    const index = await readRegularFile(join(dir, 'index.html'));
    if (!index) return text(503, `${NOT_BUILT_MESSAGE} (no index.html in ${dir})`);
    const rest = url.pathname.slice('/ui/'.length);
    if (rest === '' || rest === 'index.html') return bufferedResponse(index, { headers: uiHeaders({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }) });
    const file = fileFor(dir, rest);
    const body = file === undefined ? undefined : await readRegularFile(file);
    if (!file || !body) return text(404, `no file ${url.pathname} in the dashboard build (${dir})`);
    // Vite names assets by content hash: they never change under one name.
    const cache = rest.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return bufferedResponse(body, { headers: uiHeaders({ 'content-type': contentTypeOf(file), 'cache-control': cache }) });
  };
}
