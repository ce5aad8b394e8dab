// `machineroom dashboard`: prints the dashboard's sign-in link for the running project, and opens it on request.
import { spawn } from 'node:child_process';
import { MachineroomError, EXIT_OK } from '../errors/index.js';
import { dashboardLoginUrl } from '../client/index.js';
import { readToken } from '../state/index.js';
import type { Verb } from './args.js';
import { flag } from './args.js';
import { requireDaemon } from './project.js';
import { paint, useColor } from './output.js';
import { findExecutable } from './find-executable.js';

/** The program that opens a URL in the desktop's browser, by platform. */
function browserOpener(): string | undefined {
  if (process.platform === 'darwin') return findExecutable('open');
  if (process.platform === 'win32') return undefined;
  return findExecutable('xdg-open') ?? findExecutable('wslview');
}

/** Starts the browser on `url`, detached; resolves to a reason when it could not be started. */
function openInBrowser(url: string): Promise<string | undefined> {
  const opener = browserOpener();
  if (!opener) return Promise.resolve(`no browser opener found (${process.platform === 'darwin' ? 'open' : 'xdg-open'} is not on PATH)`);
  return new Promise((resolve) => {
    const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
    child.once('error', (err) => resolve(`${opener} failed: ${err.message}`));
    child.once('spawn', () => {
      child.unref();
      resolve(undefined);
    });
  });
}

/** `dashboard` */
export const dashboardVerb: Verb = {
  name: 'dashboard',
  summary: "Print the dashboard's sign-in link for the running project; --open starts the browser on it.",
  usage: 'dashboard [--open] [--json]',
  description:
    'The link signs the browser in (a session cookie for this API port) and opens the dashboard: services, instances, health, logs, events, traffic and the KV store, live.\n' +
    'It carries the control token (.machineroom/token): share it as you would that file. Without it the dashboard is read-only, secrets masked.\n' +
    'The front door serves it too, at http://machineroom.localhost:<its port>/ui/ (--json prints that sign-in link as frontDoorUrl).',
  options: {
    open: { type: 'boolean', description: 'also open the link in the default browser (xdg-open, or open on macOS)' },
    json: { type: 'boolean', description: 'print JSON: url (the sign-in link), uiUrl, apiUrl, frontDoorUrl (the sign-in link through the front door)' },
    'any-version': { type: 'boolean', description: 'talk to a daemon of another version' },
  },
  async run(args) {
    if (args.positionals.length) throw new MachineroomError('ERR_USAGE', `machineroom dashboard takes no arguments, got "${args.positionals.join(' ')}"; see machineroom dashboard --help`);
    const { record, paths } = await requireDaemon(args);
    const token = readToken(paths);
    if (!token) throw new MachineroomError('ERR_UNAUTHORIZED', `no control token in ${paths.dir}/token (it is written when the daemon starts); restart the project with machineroom down && machineroom up`);
    const apiUrl = `http://${record.apiHost}:${record.apiPort}`;
    const url = dashboardLoginUrl(apiUrl, token);
    // The same sign-in through the front door (a session there is its own: cookies are kept per host name).
    const frontDoorUrl = record.httpPort ? dashboardLoginUrl(`http://machineroom.localhost:${record.httpPort}`, token) : undefined;
    const problem = flag(args, 'open') ? await openInBrowser(url) : undefined;
    if (flag(args, 'json')) {
      const out = { url, uiUrl: `${apiUrl}/ui/`, apiUrl, ...(frontDoorUrl ? { frontDoorUrl } : {}), ...(flag(args, 'open') ? { opened: problem === undefined } : {}) };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } else {
      process.stdout.write(url + '\n');
      if (flag(args, 'open') && !problem) process.stderr.write(paint(`opened in the browser (${record.project})`, 'gray', useColor(process.stderr)) + '\n');
    }
    if (problem) process.stderr.write(`${paint('warning:', 'yellow', useColor(process.stderr))} cannot open a browser: ${problem}; open the link above yourself\n`);
    return EXIT_OK;
  },
};
