// `machineroom db reset|snapshot|restore|url NAME` and `machineroom psql NAME`: the database resources' verbs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT_OK, MachineroomError } from '../errors/index.js';
import type { DatabaseAction, DatabaseInfo } from '../client/index.js';
import type { Verb } from './args.js';
import { flag, str } from './args.js';
import { requireDaemon } from './project.js';
import { humanDuration, paint, useColor } from './output.js';
import { findExecutable } from './find-executable.js';

const ACTIONS = ['reset', 'snapshot', 'restore', 'url'] as const;

function usage(message: string): MachineroomError {
  return new MachineroomError('ERR_USAGE', message);
}

/** The URL of one database of a resource (the first when none is named). */
function pickUrl(info: DatabaseInfo, database: string | undefined): string {
  const db = database === undefined ? info.databases[0] : info.databases.find((d) => d.name === database);
  if (!db) throw usage(`${info.name} has no database "${database}"; databases: ${info.databases.map((d) => d.name).join(', ')}`);
  if (!db.url) throw new MachineroomError('ERR_UNHEALTHY', `${info.name} has not started yet, so its address and credentials are not known; run machineroom up`);
  return db.url;
}

/** `db` */
export const dbVerb: Verb = {
  name: 'db',
  summary: 'Reset, snapshot or restore a postgres resource, or print its URL.',
  usage: 'db reset NAME | db snapshot NAME FILE | db restore NAME FILE | db url NAME [--database DB]',
  description:
    'reset: stop the server, delete its data, start a new cluster (databases, init SQL and migrations run again).\n' +
    'snapshot: stop the server, archive its data directory (and its credentials) to FILE (.tar.gz), start it again.\n' +
    'restore: stop the server, replace its data with FILE (a snapshot), start it again.\n' +
    'Dependents keep running; their queries fail while the server is stopped (a few seconds). Data verbs wait until the\n' +
    'server is healthy again. External resources are not managed: only url works for them.',
  options: {
    database: { type: 'string', description: 'url: the database (default: the first one of the resource)' },
    yes: { type: 'boolean', description: 'snapshot: overwrite FILE when it exists' },
  },
  async run(args) {
    const [action, name, file] = args.positionals;
    if (!action || !(ACTIONS as readonly string[]).includes(action)) throw usage(`db: expected one of ${ACTIONS.join(', ')}, got ${action === undefined ? 'nothing' : `"${action}"`}; e.g. machineroom db reset database`);
    if (!name) throw usage(`db ${action}: name the resource, e.g. machineroom db ${action} database${action === 'snapshot' || action === 'restore' ? ' ./db.tar.gz' : ''}`);
    if ((action === 'snapshot' || action === 'restore') && !file) throw usage(`db ${action} ${name}: name the file, e.g. machineroom db ${action} ${name} ./${name}.tar.gz`);
    const { room } = await requireDaemon(args);
    const color = useColor();
    if (action === 'url') {
      process.stdout.write(pickUrl(await room.database({ name, action: 'info' }), str(args, 'database')) + '\n');
      return EXIT_OK;
    }
    const path = file ? resolve(file) : undefined;
    if (action === 'restore' && !existsSync(path!)) throw usage(`db restore ${name}: no file ${path}`);
    if (action === 'snapshot' && existsSync(path!) && !flag(args, 'yes')) throw usage(`db snapshot ${name}: ${path} exists; remove it or pass --yes to overwrite`);
    const began = Date.now();
    process.stderr.write(paint(`${action === 'reset' ? 'resetting' : action === 'snapshot' ? 'snapshotting' : 'restoring'} ${name}…\n`, 'gray', color));
    const request: DatabaseAction = { name, action: action as DatabaseAction['action'], ...(path ? { file: path } : {}) };
    const info = await room.database(request);
    const done = action === 'reset' ? `${name} reset: a new empty cluster` : action === 'snapshot' ? `${name} snapshot written to ${path}` : `${name} restored from ${path}`;
    process.stdout.write(`${paint('✔', 'green', color)} ${done}, healthy again in ${humanDuration(Date.now() - began)} (${info.databases.map((d) => d.name).join(', ')})\n`);
    return EXIT_OK;
  },
};

/** `psql` */
export const psqlVerb: Verb = {
  name: 'psql',
  summary: 'Open psql on a postgres resource (or print its URL when psql is not installed).',
  usage: 'psql NAME [--database DB] [-- psql arguments]',
  takesCommand: true,
  description: 'Connects as the database owner through the resource\'s service address. Without psql on PATH it prints the URL to use with any client.',
  options: {
    database: { type: 'string', description: 'the database (default: the first one of the resource)' },
  },
  async run(args) {
    const [name] = args.positionals;
    const extra = args.rest;
    if (!name) throw usage('psql: name the resource, e.g. machineroom psql database');
    const { room } = await requireDaemon(args);
    const url = pickUrl(await room.database({ name, action: 'info' }), str(args, 'database'));
    const psql = findExecutable('psql');
    if (!psql) {
      process.stdout.write(`${url}\n`);
      process.stderr.write('psql is not installed (Debian: apt-get install postgresql-client); connect any client to the URL above.\n');
      return EXIT_OK;
    }
    const child = spawn(psql, [url, ...extra], { stdio: 'inherit' });
    const code = await new Promise<number>((done) => {
      child.once('error', () => done(1));
      child.once('exit', (c, signal) => done(c ?? (signal ? 1 : 0)));
    });
    return code;
  },
};
