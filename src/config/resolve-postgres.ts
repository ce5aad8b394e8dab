// PostgresOptions → ResolvedService: a database resource is a service whose command the daemon supplies at launch.

import path from 'node:path';
import type { ConfigNode, NodePos } from './config-node.js';
import { findEntry, findNode, toSourcePos } from './config-node.js';
import { invalidConfig } from './config-error.js';
import { CONFIG_DEFAULTS as D } from './defaults.js';
import { stringifyValue } from './resolve-env.js';
import type { PostgresOptions } from './schema.js';
import type { ResolvedDatabase, ResolvedService } from './types.js';

/** Where a resource is declared, for positions and relative paths. */
export interface PostgresContext {
  name: string;
  node: ConfigNode | undefined;
  keyPos: NodePos;
}

/** The port a resource listens on when none is given. */
export const POSTGRES_DEFAULT_PORT = 5432;

/** A database name as a default database: the resource name with "-" as "_". */
function defaultDatabaseName(resource: string): string {
  return resource.replace(/-/g, '_');
}

/** Checks the engine-specific keys and resolves the resource into a service. */
export function resolvePostgres(options: PostgresOptions, ctx: PostgresContext): ResolvedService {
  const where = `postgres.${ctx.name}`;
  const engine = options.engine ?? 'embedded';
  const posOf = (key: string): NodePos => findEntry(ctx.node, key)?.keyPos ?? ctx.keyPos;
  if (engine === 'external') {
    if (options.url === undefined) throw invalidConfig(where, 'the external engine needs url: postgres://user:password@host:port/database', posOf('engine'));
    if (options.databases !== undefined) throw invalidConfig(`${where}.databases`, 'an external server is only registered and health-checked, never provisioned; remove databases (the database is the one in url)', posOf('databases'));
  } else if (options.url !== undefined) {
    throw invalidConfig(`${where}.url`, `url is for engine: external (this resource's engine is ${engine}); remove url or set engine: external`, posOf('url'));
  }
  if (options.bin_dir !== undefined && engine !== 'system') throw invalidConfig(`${where}.bin_dir`, `bin_dir is for engine: system (this resource's engine is ${engine})`, posOf('bin_dir'));
  const databases = engine === 'external' ? [externalDatabase(options.url!, where, posOf('url'))] : resolveDatabases(options, ctx);
  const port = engine === 'external' ? Number(new URL(options.url!).port || POSTGRES_DEFAULT_PORT) : options.port ?? POSTGRES_DEFAULT_PORT;
  const file = ctx.keyPos.file;
  return {
    name: ctx.name,
    // Descriptive: the daemon builds the real argv (engine binaries, data directory, machine address) at launch.
    command: engine === 'external' ? [] : ['postgres', '-D', `.machineroom/data/postgres/${ctx.name}/pgdata`],
    cwd: path.dirname(file),
    env: {},
    envFiles: [],
    replicas: 1,
    ports: [{ name: D.portName, port }],
    // The start period covers recovery after a crash and provisioning (init SQL, migrations) on a loaded machine.
    health: { kind: 'postgres', interval: 2000, timeout: 2000, startPeriod: 120_000, successThreshold: 1, failureThreshold: 2, restart: false },
    dependsOn: [],
    restart: { policy: 'on-failure', backoff: 1000, maxBackoff: 30_000 },
    // SIGINT is PostgreSQL's fast shutdown: sessions end, a checkpoint is written, the server exits 0.
    stopSignal: 'SIGINT',
    stopGrace: 10_000,
    tags: options.tags ?? [],
    protocol: 'tcp',
    routes: [],
    meta: {
      ...Object.fromEntries(Object.entries(options.meta ?? {}).map(([key, value]) => [key, stringifyValue(value, findNode(ctx.node, ['meta', key]))])),
      'machineroom-resource': 'postgres',
      'postgres-engine': engine,
    },
    profiles: [],
    source: toSourcePos(ctx.keyPos),
    postgres: {
      engine,
      ...(options.url !== undefined ? { url: options.url } : {}),
      ...(options.bin_dir !== undefined ? { binDir: path.resolve(path.dirname(findNode(ctx.node, ['bin_dir'])?.pos.file ?? file), options.bin_dir) } : {}),
      databases,
      settings: Object.fromEntries(Object.entries(options.settings ?? {}).map(([key, value]) => [key, typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value)])),
    },
  };
}

function resolveDatabases(options: PostgresOptions, ctx: PostgresContext): ResolvedDatabase[] {
  const entries = Object.entries(options.databases ?? { [defaultDatabaseName(ctx.name)]: {} });
  return entries.map(([name, db]) => {
    const node = findNode(ctx.node, ['databases', name]);
    const relative = (key: 'init' | 'migrations', value: string, index?: number): string => {
      const at = index === undefined ? findNode(node, [key]) : findNode(node, [key, String(index)]) ?? findNode(node, [key]);
      return path.resolve(path.dirname(at?.pos.file ?? ctx.keyPos.file), value);
    };
    const init = db.init === undefined ? [] : typeof db.init === 'string' ? [relative('init', db.init)] : db.init.map((f, i) => relative('init', f, i));
    return {
      name,
      user: db.user ?? name,
      ...(db.password !== undefined ? { password: db.password } : {}),
      init,
      ...(db.migrations !== undefined ? { migrations: relative('migrations', db.migrations) } : {}),
    };
  });
}

/** The one database of an external server, from its URL. */
function externalDatabase(url: string, where: string, pos: NodePos): ResolvedDatabase {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidConfig(`${where}.url`, `expected a URL like postgres://user:password@host:5432/database, got "${url}"`, pos);
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!parsed.hostname || !parsed.username || !database) {
    throw invalidConfig(`${where}.url`, `the URL must name a host, a user and a database (postgres://user:password@host:5432/database), got "${url.replace(/:[^:@/]*@/, ':***@')}"`, pos);
  }
  return { name: database, user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password), init: [] };
}
