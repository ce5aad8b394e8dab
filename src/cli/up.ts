// `machineroom up`: start the project (attached: the daemon runs in this process), or reconcile a running one to the config.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MachineroomError, EXIT_FAILURE, EXIT_OK, isErrorCode } from '../errors/index.js';
import type { ResolvedConfig } from '../config/index.js';
import { PACKAGE_ROOT, connectToDaemon, dashboardLoginUrl } from '../client/index.js';
import type { ApplyResult, MachineRoom } from '../client/index.js';
import type { Daemon } from '../daemon/index.js';
import { ensureStateDir, readJsonFile, readLiveDaemon, readToken, statePaths } from '../state/index.js';
import type { StatePaths } from '../state/index.js';
import { setLogSink } from '../log/index.js';
import type { LogLine } from '../supervisor/index.js';
import type { Verb, VerbArgs } from './args.js';
import { flag, str, strs } from './args.js';
import { apiPortOf, findProjectDir, loadProjectConfig } from './project.js';
import { formatLogLine, humanDuration, paint, useColor } from './output.js';
import { renderSummary, watchStartup } from './startup-view.js';

const say = (s: string) => process.stdout.write(s + '\n');
const warn = (s: string) => process.stderr.write(s + '\n');

/** Keeps the named services and everything they depend on (plus, when a daemon runs, what it already runs). */
function selectServices(config: ResolvedConfig, names: string[], alreadyRunning: string[]): ResolvedConfig {
  if (names.length === 0) return config;
  for (const n of names) {
    if (!config.services[n]) throw new MachineroomError('ERR_SERVICE_NOT_FOUND', `no service "${n}" in ${config.files.join(', ')}; services: ${Object.keys(config.services).join(', ')}`);
  }
  const keep = new Set<string>();
  const visit = (n: string) => {
    if (keep.has(n)) return;
    keep.add(n);
    for (const d of config.services[n]?.dependsOn ?? []) visit(d.service);
  };
  for (const n of [...names, ...alreadyRunning.filter((n) => config.services[n])]) visit(n);
  return { ...config, services: Object.fromEntries(Object.entries(config.services).filter(([n]) => keep.has(n))), order: config.order.filter((n) => keep.has(n)) };
}


/** Says which KV seeds were written and which stored values differ from their seed (values are not printed: they may be secret). */
function reportSeeds(result: ApplyResult): void {
  if (result.kv?.seeded.length) say(`kv: seeded ${result.kv.seeded.join(', ')}`);
  for (const key of result.kv?.differs ?? []) say(`kv: ${key} differs from its seed in machineroom.yml; kept the stored value (machineroom kv put ${key} … to change it)`);
}

/** Follows logs to the terminal until aborted. */
async function followLogs(room: MachineRoom, signal: AbortSignal, since: number, names: string[]): Promise<void> {
  const color = useColor();
  const width = Math.max(12, ...names.map((n) => n.length + 2));
  const print = (l: LogLine) => process.stdout.write(formatLogLine(l, { width, timestamps: false, color }) + '\n');
  try {
    for await (const line of room.logs({ follow: true, since }, signal)) print(line);
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

async function waitOrReport(room: MachineRoom, args: VerbArgs, showSummary: boolean): Promise<number> {
  const color = useColor();
  const timeoutText = str(args, 'wait-timeout') ?? '60s';
  const { parseDuration } = await import('../config/index.js');
  const timeoutMs = parseDuration(timeoutText);
  if (timeoutMs === undefined) throw new MachineroomError('ERR_USAGE', `--wait-timeout: expected a duration like "60s", got "${timeoutText}"`);
  const outcome = await watchStartup(room, { timeoutMs, out: process.stdout, color, failFast: true });
  if (showSummary) say('\n' + renderSummary(outcome.status, color));
  if (outcome.ready) {
    say(`\n${paint('✔', 'green', color)} ${outcome.status.info.project} is up: ${outcome.status.instances.length} instances healthy in ${humanDuration(outcome.elapsedMs)} (API ${outcome.status.info.apiUrl})`);
    return EXIT_OK;
  }
  const bad = outcome.failing.length ? outcome.failing : outcome.status.instances.filter((i) => i.state !== 'running' || (i.health !== 'passing' && i.health !== 'none'));
  warn(`\n${paint('✘', 'red', color)} not healthy${outcome.timedOut ? ` within ${timeoutText}` : ''}:`);
  for (const i of bad) {
    const why = i.healthOutput ?? i.warning ?? (i.lastExit ? `last exit: ${i.lastExit.signal ?? `code ${i.lastExit.code}`}` : i.state);
    warn(`  ${i.name}: ${i.state}${i.health !== 'none' ? `, check ${i.health}` : ''}: ${why}`);
  }
  warn(`see: machineroom logs ${bad.map((i) => i.name).join(' ')}`);
  return EXIT_FAILURE;
}

/** Spawns `__daemon` for a project, waiting for its config on stdin (its node boot overlaps the CLI's config work). */
function spawnDaemonProcess(paths: StatePaths, projectDir: string): ChildProcess {
  ensureStateDir(paths);
  rmSync(`${paths.dir}/daemon-error.json`, { force: true });
  const bin = join(PACKAGE_ROOT, 'bin', 'machineroom.js');
  const fd = openSync(paths.daemonLog, 'a');
  const child = spawn(process.execPath, [bin, '__daemon', '--dir', projectDir, '--config-stdin'], { detached: true, stdio: ['pipe', fd, fd], env: process.env });
  closeSync(fd);
  child.stdin?.on('error', () => undefined);
  return child;
}

/** Starts the daemon as a background process (or feeds the one spawned early) and waits until it answers. */
async function spawnDetachedDaemon(config: ResolvedConfig, paths: StatePaths, early?: ChildProcess): Promise<void> {
  const errorFile = `${paths.dir}/daemon-error.json`;
  const child = early ?? spawnDaemonProcess(paths, config.projectDir);
  // The config goes to the daemon (through a pipe: it may hold secret values), which starts from it and applies it the
  // moment it is up, instead of waiting for this process to notice and send it.
  child.stdin?.end(JSON.stringify(config));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const rec = readLiveDaemon(paths);
    if (rec && rec.pid === child.pid) return;
    if (exited !== undefined) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const failure = readJsonFile<{ code: string; message: string }>(errorFile);
  if (failure) throw new MachineroomError(failure.code as 'ERR_INTERNAL', failure.message);
  let tail = '';
  try {
    tail = readFileSync(paths.daemonLog, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    /* no log */
  }
  throw new MachineroomError('ERR_INTERNAL', `the daemon did not start${exited !== undefined ? ` (exit ${exited})` : ' within 30s'}; ${paths.daemonLog}:\n${tail}`);
}

async function upAttached(config: ResolvedConfig): Promise<number> {
  const color = useColor();
  const began = Date.now();
  const { startDaemon } = await import('../daemon/index.js');
  const daemon: Daemon = await startDaemon({ projectDir: config.projectDir, project: config.name, machineMode: config.machineMode, apiPort: apiPortOf(config), bus: config.bus, frontDoor: config.frontDoor, attached: true });
  setLogSink((line) => process.stderr.write(paint(line, 'gray', color) + '\n'));
  const live = readLiveDaemon(daemon.paths);
  say(`${paint('machineroom', 'bold', color)} ${daemon.info.version} · project ${paint(config.name, 'bold', color)} · ${config.machineMode} machines · API ${daemon.info.apiUrl} · DNS 127.0.0.1:${live?.dnsPort}${frontDoorText(live, ' · ')}`);
  say(`${paint('dashboard', 'bold', color)} ${dashboardLoginUrl(daemon.info.apiUrl, daemon.token)}`);
  // `stopping` ends the progress view at the first signal; `following` ends the log stream once the daemon has stopped,
  // so the stop progress (stopping …, stopped …) still shows.
  const stopping = new AbortController();
  const following = new AbortController();
  void daemon.stopped.then(() => following.abort());
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts += 1;
    stopping.abort();
    if (interrupts === 1) {
      warn(`\n${paint(`${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping every instance (Ctrl-C again to kill them at once)…`, 'yellow', color)}`);
      void daemon.shutdown((left) => warn(paint(`  waiting for ${left.join(', ')}`, 'gray', color)));
    } else if (sig === 'SIGINT') {
      warn(paint('killing every instance now', 'red', color));
      void daemon.kill();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    reportSeeds(await daemon.room.apply(config));
    const outcome = await watchStartup(daemon.room, { timeoutMs: 120_000, out: process.stdout, color, failFast: false, signal: stopping.signal });
    if (!stopping.signal.aborted) {
      say('\n' + renderSummary(outcome.status, color));
      const note = outcome.ready ? `${paint('✔', 'green', color)} up in ${humanDuration(Date.now() - began)}` : `${paint('!', 'yellow', color)} not everything is healthy yet (machineroom ps)`;
      say(`\n${note} · logs follow · Ctrl-C stops everything · another terminal: machineroom ps | logs | scale | dashboard | down\n`);
    }
    await followLogs(daemon.room, following.signal, stopping.signal.aborted ? Date.now() : began, outcome.status.instances.map((i) => i.name));
    await daemon.stopped;
    say(paint(`stopped; nothing of ${config.name} is left running`, 'green', color));
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

async function upDetached(config: ResolvedConfig, args: VerbArgs, paths: StatePaths, early?: ChildProcess): Promise<number> {
  try {
    await spawnDetachedDaemon(config, paths, early);
  } catch (err) {
    if (!isErrorCode(err, 'ERR_DAEMON_RUNNING')) throw err;
    // Another `up` won the race to start the daemon: reconcile through it instead.
    const deadline = Date.now() + 30_000;
    let other = await connectToDaemon(paths);
    while (!other && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      other = await connectToDaemon(paths);
    }
    if (!other) throw err;
    return upReconcile(config, args, other.room);
  }
  const found = await connectToDaemon(paths);
  if (!found) throw new MachineroomError('ERR_DAEMON_NOT_RUNNING', 'the daemon stopped right after starting; see .machineroom/daemon.log');
  reportSeeds(await found.room.apply(config));
  say(`machineroom daemon started for ${config.name} (pid ${found.record.pid}, API http://${found.record.apiHost}:${found.record.apiPort}, DNS ${found.record.apiHost}:${found.record.dnsPort}${frontDoorText(found.record, ', ')})`);
  const token = readToken(paths);
  if (token) say(`dashboard ${dashboardLoginUrl(`http://${found.record.apiHost}:${found.record.apiPort}`, token)}`);
  if (flag(args, 'wait')) return waitOrReport(found.room, args, true);
  say('follow it with: machineroom ps · machineroom logs -f · machineroom down');
  return EXIT_OK;
}

async function upReconcile(config: ResolvedConfig, args: VerbArgs, room: MachineRoom): Promise<number> {
  const result = await room.apply(config);
  const parts = [
    result.added.length ? `started ${result.added.join(', ')}` : '',
    result.changed.length ? `recreating ${result.changed.join(', ')} (spec changed)` : '',
    result.removed.length ? `removing ${result.removed.join(', ')}` : '',
  ].filter(Boolean);
  say(`machineroom: ${config.name} is already up; ${parts.length ? parts.join('; ') : 'nothing changed'}`);
  reportSeeds(result);
  const token = readToken(statePaths(config.projectDir));
  if (token) say(`dashboard ${dashboardLoginUrl((await room.info()).apiUrl, token)}`);
  if (flag(args, 'wait')) return waitOrReport(room, args, true);
  if (flag(args, 'detach')) return EXIT_OK;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  say('following logs; Ctrl-C stops following (the daemon keeps running; machineroom down stops it)');
  await followLogs(room, abort.signal, Date.now() - 1000, []);
  return EXIT_OK;
}

/** `up` */
export const upVerb: Verb = {
  name: 'up',
  summary: 'Start the project: every service on its own machines, with health checks; or apply config changes to a running project.',
  usage: 'up [-d] [--wait] [-f FILE]... [SERVICE...]',
  description:
    'Attached (default), the daemon runs in this terminal: a progress view while instances start, a summary, then the logs; Ctrl-C stops everything.\n' +
    'With -d it runs in the background. When the project is already up, `up` reconciles it to the config: only services whose spec changed are recreated.\n' +
    'Naming services starts only those and their dependencies.',
  options: {
    detach: { type: 'boolean', short: 'd', description: 'run the daemon in the background and return' },
    wait: { type: 'boolean', description: 'return when everything is healthy (implies -d); exit 1 naming what is not' },
    'wait-timeout': { type: 'string', value: 'DUR', description: 'how long --wait waits (default 60s)' },
    'any-version': { type: 'boolean', description: 'talk to a running daemon of another machineroom version' },
  },
  async run(args) {
    const detached = flag(args, 'detach') || flag(args, 'wait');
    // No daemon yet and one will run in the background: start it now, so it boots while the config is loaded.
    let early: ChildProcess | undefined;
    let earlyDir: string | undefined;
    if (detached) {
      earlyDir = findProjectDir(process.cwd(), strs(args, 'file'));
      const guess = statePaths(earlyDir);
      if (!readLiveDaemon(guess)) early = spawnDaemonProcess(guess, earlyDir);
    }
    let config: ResolvedConfig;
    try {
      config = await loadProjectConfig(args);
    } catch (err) {
      early?.stdin?.end(); // no config: it exits without starting
      throw err;
    }
    const paths = statePaths(config.projectDir);
    if (early && earlyDir !== config.projectDir) {
      // The config lives elsewhere than the directory guessed from cwd: that daemon exits unstarted.
      early.stdin?.end();
      early = undefined;
    }
    const existing = await connectToDaemon(paths, { anyVersion: flag(args, 'any-version') });
    const running = existing ? (await existing.room.status()).services.map((s) => s.name) : [];
    const selected = selectServices(config, args.positionals, running);
    if (existing) {
      early?.stdin?.end();
      return upReconcile(selected, args, existing.room);
    }
    if (detached) return upDetached(selected, args, paths, early);
    return upAttached(selected);
  },
};

/** The front door's ports, as the start-up line shows them. */
function frontDoorText(record: { httpPort?: number; httpsPort?: number } | undefined, separator: string): string {
  if (!record?.httpPort) return '';
  return `${separator}front door http://localhost:${record.httpPort}${record.httpsPort ? ` https://localhost:${record.httpsPort}` : ''}`;
}
