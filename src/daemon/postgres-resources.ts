// The daemon's side of `postgres:` resources: prepares each server's data before the supervisor starts it, provisions
// databases once it answers, publishes the connection details in KV and to dependents, and runs the db verbs.
import { existsSync, rmSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MachineroomError } from '../errors/index.js';
import type { ResolvedConfig, ResolvedService } from '../config/index.js';
import type { KvStore } from '../bus/index.js';
import type { Machine } from '../machines/index.js';
import type { Launch, MachineroomEvent, Supervisor } from '../supervisor/index.js';
import type { DatabaseAction, DatabaseInfo } from '../client/index.js';
import {
  ensureCluster,
  isLivePostgres,
  warmUp,
  loadCredentials,
  locateEngine,
  postgresUrl,
  probePostgres,
  provision,
  restoreDataDir,
  serverCommand,
  serverUser,
  snapshotDataDir,
  SUPERUSER,
  clearProvisionStamp,
  connectWhenReady,
  provisionStamp,
  readProvisionStamp,
  waitPostmaster,
  writeProvisionStamp,
  closeClient,
} from '../postgres/index.js';
import type { PgConn } from '../postgres/index.js';
import type { ServiceAddresses } from './service-addresses.js';
import { envPrefix } from './service-addresses.js';
import { writeFileAtomic } from '../state/index.js';
import { serverHomeOf } from './postgres-home.js';
import type { ServerHome } from './postgres-home.js';

/** What the resources need from the daemon. */
export interface PostgresResourcesDeps {
  /** The project's .machineroom directory: engines live in it, and nothing outside it is re-owned. */
  stateDir: string;
  /** .machineroom/data: each resource keeps its cluster and credentials in postgres/<name>/. */
  dataDir: string;
  kv: KvStore;
  addresses: ServiceAddresses;
  emit: (e: Omit<MachineroomEvent, 'ts' | 'seq'>) => void;
  /** Probes an instance's check now (provisioning finished). */
  probeNow: (instance: string) => void;
  /** Ends an instance's start period (provisioning failed: it will not turn healthy by waiting). */
  endStart: (instance: string) => void;
  /** Names a relocated home (root, a project the server user cannot enter). */
  projectId: string;
}

/** The resources of the running config. */
export interface PostgresResources {
  /** Follows the applied config (which services are resources, and their databases). */
  sync(config: ResolvedConfig): void;
  /** The supervisor's launch hook for a resource's instance. */
  launch(spec: ResolvedService, machine: Machine, instance: string, note?: (text: string) => void): Promise<Launch>;
  /** <NAME>_URL (a postgres:// URL), _USER, _PASSWORD, _DATABASE of each resource a service depends on; DATABASE_URL for exactly one. */
  envFor(spec: ResolvedService): Record<string, string>;
  /** Runs a db verb (info, reset, snapshot, restore) on a resource. */
  run(action: DatabaseAction, supervisor: Supervisor): Promise<DatabaseInfo>;
}

/** The credentials copied into a snapshot, so a restored cluster is reachable with the passwords it was made with. */
const SNAPSHOT_CREDENTIALS = 'machineroom-credentials.json';

interface Known {
  spec: ResolvedService;
  /** Passwords by role, and the superuser's (managed engines), once loaded. */
  credentials?: { superPassword: string; passwords: Record<string, string> };
  /** Where its cluster lives, once launched. */
  home?: ServerHome;
  /** Provisioning of the running server: until it has finished (and KV is published) the check is not passing. */
  provisioning?: { done: boolean; error?: string };
  /** The server's version, from the engine (for messages when provisioning is skipped). */
  engineVersion?: string;
  /** The owner's login check started next to provisioning (see provisionWhenReady). */
  earlyProbe?: ReturnType<typeof probePostgres>;
  /** Where the server listens (its machine), once launched. */
  listen?: { host: string; port: number };
}

/** Creates the resource manager. */
export function createPostgresResources(deps: PostgresResourcesDeps): PostgresResources {
  const known = new Map<string, Known>();

  const dirOf = (name: string) => join(deps.dataDir, 'postgres', name);
  const pgdataOf = (name: string) => known.get(name)?.home?.pgdata ?? join(dirOf(name), 'pgdata');

  function passwordOf(k: Known, db: { user: string; password?: string }): string | undefined {
    return db.password ?? k.credentials?.passwords[db.user];
  }

  /** The address apps use: the resource's service address (stable while the daemon runs), else its machine. */
  function reachOf(name: string, k: Known): { host: string; port: number } | undefined {
    const a = deps.addresses.get(name);
    return a ? { host: a.host, port: a.port } : k.listen;
  }

  /** KV postgres/<db>/{host,port,database} always; username and password only when missing (apps, or a person, may change them). */
  async function publish(name: string, k: Known): Promise<void> {
    const reach = reachOf(name, k);
    if (!reach) return;
    const differs: string[] = [];
    for (const db of k.spec.postgres!.databases) {
      const base = `postgres/${db.name}/`;
      for (const [key, value] of [['host', reach.host], ['port', String(reach.port)], ['database', db.name]] as const) {
        const existing = deps.kv.get(base + key);
        if (!existing || existing.Value.toString('utf8') !== value) await deps.kv.set(base + key, Buffer.from(value));
      }
      const password = passwordOf(k, db) ?? '';
      for (const [key, value] of [['username', db.user], ['password', password]] as const) {
        const existing = deps.kv.get(base + key);
        if (!existing) await deps.kv.set(base + key, Buffer.from(value), { cas: 0 });
        else if (existing.Value.toString('utf8') !== value) differs.push(base + key);
      }
    }
    if (differs.length) deps.emit({ type: 'config', level: 'info', service: name, message: `${name}: kv ${differs.join(', ')} differ from the database's own credentials; left as they are (apps reading them will fail to log in until they match)` });
  }

  async function launchManaged(spec: ResolvedService, machine: Machine, instance: string, k: Known, note: (text: string) => void): Promise<Launch> {
    const pg = spec.postgres!;
    const engineKind = pg.engine === 'system' ? 'system' : 'embedded';
    const runAs = await serverUser();
    const dir = dirOf(spec.name);
    const home = serverHomeOf({ stateDir: deps.stateDir, resourceDir: dir, name: spec.name, projectId: deps.projectId, ...(runAs ? { user: runAs } : {}) });
    if (home.blockedAt && !k.home) {
      deps.emit({ type: 'starting', level: 'info', service: spec.name, instance, message: `${instance}: the server runs as ${runAs!.name}, which cannot enter ${home.blockedAt}; its data lives in ${home.root} instead (down --volumes removes it)` });
    }
    k.home = home;
    const engine = await locateEngine(engineKind, { stateDir: home.root, ...(pg.binDir ? { binDir: pg.binDir } : {}), ...(runAs ? { user: runAs } : {}) });
    k.engineVersion = engine.version;
    k.credentials = await loadCredentials(dir, pg.databases.filter((db) => db.password === undefined).map((db) => db.user));
    const dataDir = home.pgdata;
    const began = Date.now();
    const cluster = await ensureCluster(engine, {
      dataDir,
      ownedRoot: home.root,
      superPassword: k.credentials.superPassword,
      ...(runAs ? { user: runAs } : {}),
      onProgress: (line) => {
        note(line);
        deps.emit({ type: 'starting', level: 'info', service: spec.name, instance, message: `${instance}: ${line}` });
      },
    });
    if (cluster.created) deps.emit({ type: 'starting', level: 'info', service: spec.name, instance, message: `${instance}: new PostgreSQL ${engine.version} cluster (${engine.kind}) in ${Math.round((Date.now() - began) / 100) / 10}s` });
    if (cluster.livePid !== undefined) await stopLeftover(cluster.livePid, instance, spec.name);
    const host = machine.address;
    const port = machine.ports[spec.ports[0]!.name]!;
    k.listen = { host, port };
    const command = serverCommand(engine, { dataDir, host, port, settings: pg.settings, name: spec.name });
    const owner = pg.databases[0]!;
    const probeConn: PgConn = { host, port, user: owner.user, password: passwordOf(k, owner) ?? '', database: owner.name };
    const superuser: PgConn = { host, port, user: SUPERUSER, password: k.credentials.superPassword, database: 'postgres' };
    return {
      argv: command.argv,
      env: command.env,
      cwd: command.cwd,
      ...(runAs ? { user: { uid: runAs.uid, gid: runAs.gid } } : {}),
      // Healthy means usable: provisioned (roles, databases, init SQL, migrations) and published in KV.
      probe: async () => {
        const p = k.provisioning;
        if (!p?.done) return { status: 'critical', output: p?.error ? `provisioning failed: ${p.error}` : 'provisioning: waiting for the server, then roles, databases, init SQL and migrations' };
        // The owner's first login ran next to provisioning: when it passed, it is this probe's answer.
        const early = await k.earlyProbe;
        k.earlyProbe = undefined;
        if (early?.status === 'passing') return early;
        return probePostgres(probeConn, spec.health?.timeout ?? 2000);
      },
      // Started means the postmaster has written its pid file (in a few tens of ms): dependents that wait for it to be
      // started then boot next to a server that is past its own start-up work.
      started: async (pid) => void (await waitPostmaster(dataDir, Date.now() + 5000, { until: 'written', pid })),
      onStarted: (pid) => {
        k.provisioning = { done: false };
        k.earlyProbe = undefined;
        void provisionWhenReady(spec, instance, superuser, k, pid, () => probePostgres(probeConn, spec.health?.timeout ?? 2000));
      },
    };
  }

  /** A server left running by a crashed daemon holds the data directory: it is stopped (fast, then immediate, then kill). */
  async function stopLeftover(pid: number, instance: string, service: string): Promise<void> {
    deps.emit({ type: 'starting', level: 'warn', service, instance, message: `${instance}: stopping PostgreSQL pid ${pid} left running on this data directory` });
    for (const [signal, waitMs] of [['SIGINT', 5000], ['SIGQUIT', 3000], ['SIGKILL', 3000]] as const) {
      try {
        process.kill(pid, signal);
      } catch {
        return; // gone
      }
      const until = Date.now() + waitMs;
      while (Date.now() < until) {
        if (!isLivePostgres(pid)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`PostgreSQL pid ${pid} still holds ${instance}'s data directory after SIGKILL`);
  }

  async function provisionWhenReady(spec: ResolvedService, instance: string, superuser: PgConn, k: Known, pid: number, probeOwner: () => ReturnType<typeof probePostgres>): Promise<void> {
    // Waiting ends early when the server exits (a crash at start is reported by the supervisor, not as a timeout here).
    const gone = new AbortController();
    const watch = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        gone.abort();
      }
    }, 250);
    const deadline = Date.now() + 60_000;
    const say = (message: string) => deps.emit({ type: 'starting', level: 'info', service: spec.name, instance, message: `${instance}: ${message}` });
    const databases = spec.postgres!.databases.map((db) => ({ name: db.name, user: db.user, password: passwordOf(k, db)!, init: db.init, ...(db.migrations ? { migrations: db.migrations } : {}) }));
    const dataDir = k.home?.pgdata;
    const stamp = dataDir ? provisionStamp(dataDir, databases) : undefined;
    try {
      // Provisioned before with exactly this (same cluster, roles, passwords, init files and migrations): no superuser
      // login and queries; the owner's own login, once the server says it is ready, proves the database usable.
      if (stamp && dataDir && readProvisionStamp(dirOf(spec.name)) === stamp && (await waitPostmaster(dataDir, deadline, { until: 'ready', signal: gone.signal, pid }))) {
        const first = await probeOwner();
        if (first.status === 'passing') {
          k.earlyProbe = Promise.resolve(first);
          await publish(spec.name, k);
          k.provisioning = { done: true };
          deps.probeNow(instance);
          say(`PostgreSQL ${k.engineVersion ?? ''} ready; databases ${databases.map((d) => d.name).join(', ')} (as provisioned before)`);
          return;
        }
      }
      // The connection that saw the server ready provisions it too (each login costs a SCRAM exchange).
      const { client, version } = await connectWhenReady(superuser, deadline, { signal: gone.signal, pid, ...(dataDir ? { dataDir } : {}) });
      // On a warm start the owner's role and database exist already: its login check runs while provisioning does
      // (each login is a SCRAM exchange and a backend to fork); the check uses the answer once provisioning is done.
      k.earlyProbe = probeOwner();
      let results;
      try {
        results = await provision(superuser, databases, say, { admin: client });
      } finally {
        await closeClient(client);
      }
      if (stamp) writeProvisionStamp(dirOf(spec.name), stamp);
      await publish(spec.name, k);
      k.provisioning = { done: true };
      deps.probeNow(instance);
      const what = results.map((r) => `${r.name}${r.created ? ' (created)' : ''}${r.applied.length ? ` +${r.applied.length} migration${r.applied.length === 1 ? '' : 's'}` : ''}`).join(', ');
      say(`${version.split(' on ')[0]} ready; databases ${what}`);
    } catch (err) {
      k.provisioning = { done: false, error: (err as Error).message };
      if (!gone.signal.aborted) {
        deps.endStart(instance);
        deps.probeNow(instance);
        deps.emit({ type: 'error', level: 'error', service: spec.name, instance, message: `${instance}: provisioning failed: ${(err as Error).message}` });
      }
    } finally {
      clearInterval(watch);
    }
  }

  async function launchExternal(spec: ResolvedService, k: Known): Promise<Launch> {
    const url = new URL(spec.postgres!.url!);
    const db = spec.postgres!.databases[0]!;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 5432);
    k.listen = { host, port };
    await publish(spec.name, k);
    const conn: PgConn = { host, port, user: db.user, password: db.password ?? '', database: db.name };
    return { external: { address: host, port }, probe: () => probePostgres(conn, spec.health?.timeout ?? 2000) };
  }

  function resource(name: string): Known {
    const k = known.get(name);
    if (!k) {
      const names = [...known.keys()];
      throw new MachineroomError('ERR_SERVICE_NOT_FOUND', `no database resource "${name}" in this project; ${names.length ? `resources: ${names.join(', ')}` : 'the config declares none (postgres: in machineroom.yml)'}`);
    }
    return k;
  }

  function infoOf(name: string, k: Known): DatabaseInfo {
    const reach = reachOf(name, k);
    const pg = k.spec.postgres!;
    return {
      name,
      engine: pg.engine,
      ...(pg.engine !== 'external' ? { dataDir: pgdataOf(name) } : {}),
      databases: pg.databases.map((db) => {
        const password = passwordOf(k, db);
        return {
          name: db.name,
          user: db.user,
          ...(reach && password !== undefined ? { url: postgresUrl({ host: reach.host, port: reach.port, user: db.user, password, database: db.name }) } : {}),
        };
      }),
    };
  }

  /** Waits until the resource's instance passes its check (after reset, restore, snapshot). */
  async function waitHealthy(supervisor: Supervisor, name: string, deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const inst = supervisor.status().find((i) => i.service === name);
      if (inst?.state === 'running' && inst.health === 'passing') return;
      if (Date.now() > deadline) throw new MachineroomError('ERR_TIMEOUT', `${name} did not turn healthy within ${deadlineMs / 1000}s (state ${inst?.state ?? 'none'}${inst?.healthOutput ? `: ${inst.healthOutput}` : ''}); see machineroom logs ${name}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    sync(config) {
      for (const name of [...known.keys()]) if (!config.services[name]?.postgres) known.delete(name);
      // The client library and the server user are needed soon: load them while the rest of the project starts.
      if (Object.values(config.services).some((s) => s.postgres)) {
        void warmUp().catch(() => undefined);
        void serverUser().catch(() => undefined); // cached by the engine layer (a failure is retried by the launch)
      }
      for (const spec of Object.values(config.services)) {
        if (!spec.postgres) continue;
        const k = known.get(spec.name);
        if (k) k.spec = spec;
        else known.set(spec.name, { spec });
      }
    },
    async launch(spec, machine, instance, note = () => undefined) {
      const k = known.get(spec.name) ?? { spec };
      known.set(spec.name, k);
      k.spec = spec;
      return spec.postgres!.engine === 'external' ? launchExternal(spec, k) : launchManaged(spec, machine, instance, k, note);
    },
    envFor(spec) {
      const env: Record<string, string> = {};
      const urls: string[] = [];
      for (const dep of spec.dependsOn) {
        const k = known.get(dep.service);
        if (!k) continue;
        const info = infoOf(dep.service, k);
        const first = info.databases[0];
        if (!first?.url) continue;
        const prefix = envPrefix(dep.service);
        env[`${prefix}_URL`] = first.url;
        env[`${prefix}_USER`] = first.user;
        env[`${prefix}_PASSWORD`] = passwordOf(k, k.spec.postgres!.databases[0]!) ?? '';
        env[`${prefix}_DATABASE`] = first.name;
        urls.push(first.url);
      }
      if (urls.length === 1) env.DATABASE_URL = urls[0]!;
      return env;
    },
    async run(action, supervisor) {
      const k = resource(action.name);
      const name = action.name;
      if (action.action === 'info') return infoOf(name, k);
      if (k.spec.postgres!.engine === 'external') throw new MachineroomError('ERR_USAGE', `${name} is an external server: machineroom does not manage its data (db ${action.action} works on embedded and system resources)`);
      const pgdata = pgdataOf(name);
      const say = (message: string) => deps.emit({ type: 'config', level: 'info', service: name, message });
      if (action.action === 'snapshot' && !existsSync(join(pgdata, 'PG_VERSION'))) throw new MachineroomError('ERR_USAGE', `${name} has no data yet (${pgdata}); start it first`);
      // Every data operation works on a stopped cluster: a consistent copy without a running backup tool.
      say(`${name}: stopping for db ${action.action}`);
      await supervisor.stopService(name);
      try {
        // New or restored data: the next start provisions in full (the stamp describes what the old data was given).
        if (action.action !== 'snapshot') clearProvisionStamp(dirOf(name));
        if (action.action === 'reset') {
          rmSync(pgdata, { recursive: true, force: true });
          say(`${name}: data removed; a new cluster is made on start`);
        } else if (action.action === 'snapshot') {
          const creds = join(dirOf(name), 'credentials.json');
          const inside = join(pgdata, SNAPSHOT_CREDENTIALS);
          if (existsSync(creds)) await copyFile(creds, inside);
          try {
            const { bytes } = await snapshotDataDir(pgdata, action.file!);
            say(`${name}: snapshot written to ${action.file} (${Math.round(bytes / 1024)} KiB)`);
          } finally {
            rmSync(inside, { force: true });
          }
        } else {
          await restoreDataDir(action.file!, pgdata, await serverUser());
          // The restored tree belongs to the server's user; the credentials are rewritten as the daemon's own 0600 file.
          const inside = join(pgdata, SNAPSHOT_CREDENTIALS);
          if (existsSync(inside)) {
            writeFileAtomic(join(dirOf(name), 'credentials.json'), await readFile(inside, 'utf8'), 0o600);
            rmSync(inside, { force: true });
          }
          say(`${name}: restored from ${action.file}`);
        }
      } finally {
        supervisor.startService(name);
      }
      // Healthy implies provisioned and published (the check waits for both).
      await waitHealthy(supervisor, name, 120_000);
      return infoOf(name, k);
    },
  };
}

