// Boots and wires the daemon: lock, sweep of leftovers, state dir, bus store, health checker, machines, supervisor,
// control API, watchdog; and shuts it all down in order.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync, mkdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MachineroomError } from '../errors/index.js';
import type { MachineMode, ResolvedBus, ResolvedConfig, ResolvedFrontDoor } from '../config/index.js';
import { createMachinePool } from '../machines/index.js';
import { createCgroup, findCgroup2Mount, processStartTime, removeCgroup } from '../proc/index.js';
import {
  ensureStateDir,
  ensureToken,
  isHeld,
  projectIdOf,
  statePaths,
  tryLock,
  withRegistry,
  writeDaemonRecord,
  writeInstanceRecords,
} from '../state/index.js';
import type { DaemonRecord, HeldLock, StatePaths } from '../state/index.js';
import type { KvStore } from '../bus/index.js';
import { createEventLog, createLogHub, createSupervisor, matchesTargets } from '../supervisor/index.js';
import type { LogLine, MachineroomEvent, Supervisor } from '../supervisor/index.js';
import { createLogger } from '../log/index.js';
import { createAsyncQueue } from './async-queue.js';
import { createControlApi } from './control-api.js';
import { startBus } from './start-bus.js';
import { startFrontDoor } from './start-front-door.js';
import { createServiceAddresses } from './service-addresses.js';
import { createPostgresResources } from './postgres-resources.js';
import { bufferedResponse, checkOrigin, serveHandler } from '../http/index.js';
import { renderMetrics } from './metrics.js';
import { bindApiPort, createApiServer } from './listen.js';
import type { DaemonInfo, MachineRoom, RunLease } from '../client/index.js';
import { sweepLeftovers } from './sweep.js';
import { createRoomStatus } from './room-status.js';
import { createDashboardServer, defaultDashboardDir } from '../dashboard-server/index.js';
import { VERSION, isFailing, isSettled } from '../client/index.js';

const log = createLogger('daemon');
/** The latest the front door's proxy workers start (normally once the first instances have settled). */
const WORKERS_AFTER_MS = 10_000;

/** How to start a daemon. */
export interface DaemonOptions {
  projectDir: string;
  project: string;
  machineMode: MachineMode;
  /** Preferred API port (0: any free port). */
  apiPort: number;
  /** The bus's settings (datacenter, node, DNS…); changing them needs a restart of the daemon. */
  bus: ResolvedBus;
  /** The front door's settings; changing them needs a restart of the daemon. */
  frontDoor: ResolvedFrontDoor;
  attached: boolean;
  registryDir?: string;
  /** Spawn the watchdog (tests of the watchdog itself may turn it off; the CLI never does). */
  watchdog?: boolean;
  /** The built dashboard served at /ui (default: MACHINEROOM_DASHBOARD_DIR, else dist/dashboard in the package). */
  dashboardDir?: string;
}

/** A running daemon. */
export interface Daemon {
  readonly room: MachineRoom;
  readonly supervisor: Supervisor;
  readonly info: DaemonInfo;
  readonly paths: StatePaths;
  readonly token: string;
  /** Resolves when shutdown has finished. */
  readonly stopped: Promise<void>;
  /** Stops every instance (dependents first) and everything else; safe to call twice. */
  shutdown(onProgress?: (waitingFor: string[]) => void): Promise<void>;
  /** SIGKILLs every instance at once (second Ctrl-C), then shuts down. */
  kill(): Promise<void>;
}

function spawnWatchdog(projectDir: string, projectId: string, cgroupRel: string | undefined): ChildProcess {
  const script = fileURLToPath(new URL('./watchdog-main.js', import.meta.url));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MR_')) env[k] = v;
  const child = spawn(process.execPath, [script, projectDir, projectId, cgroupRel ?? ''], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], env });
  // Lowest CPU priority: it waits, and its node boot should not slow the instances starting next to it.
  try {
    if (child.pid !== undefined) setPriority(child.pid, 19);
  } catch {
    /* not permitted here: it runs at normal priority */
  }
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return child;
}

/** Starts the daemon for a project: fails with ERR_DAEMON_RUNNING when one already runs there. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const paths = statePaths(opts.projectDir);
  ensureStateDir(paths);
  const lockOrOwner = tryLock(paths.lock);
  if (!isHeld(lockOrOwner)) {
    throw new MachineroomError('ERR_DAEMON_RUNNING', `a machineroom daemon (pid ${lockOrOwner.pid}) already runs for ${opts.projectDir}`, { details: { pid: lockOrOwner.pid } });
  }
  const lock: HeldLock = lockOrOwner;
  const projectId = projectIdOf(opts.project, opts.projectDir);
  const isRoot = process.getuid?.() === 0;
  const cgroupRel = isRoot && findCgroup2Mount() ? `machineroom-${projectId}` : undefined;
  let cleanup: (() => Promise<void>)[] = [async () => lock.release()];
  try {
    const swept = await sweepLeftovers(paths, projectId, cgroupRel);
    const cgroupDir = cgroupRel ? createCgroup(cgroupRel) : undefined;
    const token = ensureToken(paths);
    rmSync(paths.logs, { recursive: true, force: true });
    mkdirSync(paths.logs, { recursive: true });
    mkdirSync(paths.data, { recursive: true });
    const logs = createLogHub({ dir: paths.logs });
    const events = createEventLog({ file: paths.events });
    // Events appear in the log stream too, as lines from "machineroom".
    events.subscribe((e) => logs.write({ ts: e.ts, source: 'machineroom', service: 'machineroom', stream: 'event', text: e.message }));
    if (swept.found > 0) events.emit({ type: 'daemon', level: 'warn', message: `stopped ${swept.found} processes left behind by an earlier daemon of this project` });
    const pool = createMachinePool({ projectId, mode: opts.machineMode, ...(opts.registryDir ? { registryDir: opts.registryDir } : {}) });
    const startTime = processStartTime(process.pid) ?? 0;
    const startedAt = new Date().toISOString();
    const server = createApiServer();
    const apiPort = await bindApiPort(server, {
      preferred: opts.apiPort,
      projectId,
      entry: { pid: process.pid, startTime, dir: opts.projectDir, name: opts.project },
      ...(opts.registryDir ? { registryDir: opts.registryDir } : {}),
    });
    cleanup.push(() => withRegistry((d) => void delete d.projects[projectId], opts.registryDir));
    // Blocking queries and followers (logs -f) may wait minutes: shutting down ends them rather than waiting them out.
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
    );
    server.on('connection', (s) => s.unref());
    const bus = await startBus({
      settings: opts.bus,
      dataDir: join(paths.data, 'bus'),
      projectId,
      entry: { pid: process.pid, startTime, dir: opts.projectDir, name: opts.project },
      ...(opts.registryDir ? { registryDir: opts.registryDir } : {}),
    });
    cleanup.push(() => bus.close());
    const { store, checker } = bus;
    // The access log: off by default (a busy app must not flood the terminal), on globally or per service; the front
    // door reports only requests of logged services.
    const front = await startFrontDoor({
      onAccess: (e) => {
        const text = `${e.method} ${e.host}${e.path} → ${e.instance ?? '-'} ${e.completed ? e.status : `${e.status} (client went away)`} ${Math.round(e.durationMs * 10) / 10}ms`;
        logs.write({ ts: Date.now(), source: 'frontdoor', service: e.service, stream: 'stdout', text });
      },
      store,
      project: opts.project,
      domain: opts.bus.domain,
      settings: opts.frontDoor,
      stateDir: paths.dir,
      onWorkerCrash: (message) => events.emit({ type: 'daemon', level: 'warn', message }),
      deferWorkers: true,
      // machineroom.localhost on the front door reaches the dashboard and this API.
      control: { address: '127.0.0.1', port: apiPort },
      projectId,
      entry: { pid: process.pid, startTime, dir: opts.projectDir, name: opts.project },
      ...(opts.registryDir ? { registryDir: opts.registryDir } : {}),
    });
    cleanup.push(() => front.close());
    const addresses = createServiceAddresses({ pool, front, onError: (message) => events.emit({ type: 'config', level: 'warn', message }) });
    cleanup.push(() => addresses.close());
    const databases = createPostgresResources({ stateDir: paths.dir, dataDir: paths.data, kv: bus.data.kv, addresses, projectId, emit: (e) => events.emit(e), probeNow: (instance) => supervisor.probeNow(instance), endStart: (instance) => supervisor.endStart(instance) });
    const watchdog = opts.watchdog === false ? undefined : spawnWatchdog(opts.projectDir, projectId, cgroupRel);
    const supervisor = createSupervisor({
      project: opts.project,
      projectId,
      store,
      checker,
      pool,
      logs,
      events,
      recordProcesses: (recs) => writeInstanceRecords(paths, recs),
      busEnv: { CONSUL_HTTP_ADDR: `127.0.0.1:${apiPort}` },
      // A planned stop: deregistered first, then the front door lets in-flight requests finish, then the signal.
      drain: (serviceId) => front.drain(serviceId),
      dependencyEnv: (spec) => ({ ...addresses.envFor(spec), ...databases.envFor(spec) }),
      launch: (spec, machine, instance, note) => databases.launch(spec, machine, instance, note),
      ...(cgroupDir && cgroupRel ? { cgroupDir: cgroupRel } : {}),
    });
    const info: DaemonInfo = {
      version: VERSION,
      pid: process.pid,
      project: opts.project,
      projectId,
      projectDir: opts.projectDir,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      startedAt,
      machineMode: opts.machineMode,
      secrets: [],
      frontDoorUrl: `http://localhost:${front.port}`,
      ...(front.httpsPort !== undefined ? { frontDoorHttpsUrl: `https://localhost:${front.httpsPort}` } : {}),
    };
    const record: DaemonRecord = {
      pid: process.pid,
      startTime,
      version: VERSION,
      project: opts.project,
      projectId,
      projectDir: opts.projectDir,
      apiHost: '127.0.0.1',
      apiPort,
      dnsPort: bus.dns.port,
      httpPort: front.port,
      ...(front.httpsPort !== undefined ? { httpsPort: front.httpsPort } : {}),
      startedAt,
      attached: opts.attached,
    };
    writeDaemonRecord(paths, record);
    const statusView = createRoomStatus({ info, supervisor, store, addresses, databases, frontDoorPort: front.port });
    cleanup.push(async () => statusView.close());

    let resolveStopped!: () => void;
    const stopped = new Promise<void>((r) => (resolveStopped = r));
    let shutdownPromise: Promise<void> | undefined;
    const runs = new Map<string, () => Promise<void>>();

    const shutdown = (): Promise<void> => {
      shutdownPromise ??= (async () => {
        events.emit({ type: 'daemon', level: 'info', message: 'shutting down: stopping every instance' });
        await supervisor.close();
        for (const release of runs.values()) await release().catch(() => undefined);
        await pool.close().catch((err: unknown) => log.warn(`releasing machines: ${String(err)}`));
        writeInstanceRecords(paths, []);
        events.emit({ type: 'daemon', level: 'info', message: 'stopped' });
        rmSync(paths.daemon, { force: true });
        for (const fn of cleanup.reverse()) await fn().catch((err: unknown) => log.warn(String(err)));
        cleanup = [];
        if (cgroupDir) removeCgroup(cgroupDir);
        await logs.close();
        await events.close();
        watchdog?.stdin?.end('exit\n'); // a clean exit: the watchdog leaves without sweeping
        resolveStopped();
      })();
      return shutdownPromise;
    };

    const applyConfig = async (config: ResolvedConfig) => {
      info.secrets = config.secrets ?? [];
      statusView.setConfig(config);
      // Seeds first, so instances that read their configuration from KV at start find it.
      const kv = await seedKv(bus.data.kv, config.kv ?? {});
      front.setServices(Object.keys(config.services));
      front.setAccessLog({
        global: config.frontDoor?.accessLog ?? opts.frontDoor.accessLog,
        services: Object.fromEntries(Object.values(config.services).flatMap((s) => (s.accessLog === undefined ? [] : [[s.name, s.accessLog] as [string, boolean]]))),
      });
      front.setRoutes(Object.values(config.services).flatMap((s) => (s.routes ?? []).map((r) => ({ service: s.name, ...r }))));
      // Service addresses exist before any instance that depends on them starts.
      await addresses.sync(config);
      databases.sync(config);
      if (kv.seeded.length) events.emit({ type: 'config', level: 'info', message: `kv: seeded ${kv.seeded.join(', ')}` });
      const result = supervisor.apply(config);
      startWorkersWhenSettled();
      return { ...result, kv };
    };
    // The proxy workers start once the instances have settled (or after WORKERS_AFTER_MS): their node boots would
    // otherwise take CPU from PostgreSQL and the apps while they start; until then the daemon serves the front door.
    let workersTimer: NodeJS.Timeout | undefined = setTimeout(() => {
      if (!shutdownPromise) front.startWorkers();
    }, WORKERS_AFTER_MS);
    workersTimer.unref();
    const startWorkersWhenSettled = (): void => {
      if (!workersTimer) return;
      const check = () => {
        if (shutdownPromise) return;
        const all = supervisor.status();
        if (all.every((i) => isSettled(i) || isFailing(i) || i.state === 'stopped')) {
          clearTimeout(workersTimer);
          workersTimer = undefined;
          // A moment later: `up --wait` returns as they settle, and its last status call should not wait on two forks.
          setTimeout(() => {
            if (!shutdownPromise) front.startWorkers();
          }, 1000).unref();
        } else setTimeout(check, 100).unref();
      };
      check();
    };
    // Applies run one at a time (the daemon applies the config `up` piped to it while `up` may send it again).
    let applying: Promise<unknown> = Promise.resolve();
    const room: MachineRoom = {
      info: async () => info,
      apply: (config: ResolvedConfig) => {
        const run = applying.then(() => applyConfig(config));
        applying = run.catch(() => undefined);
        return run;
      },
      status: () => statusView.status(),
      scale: async (changes) => {
        for (const [svc, n] of Object.entries(changes)) supervisor.scale(svc, n);
      },
      restart: (target) => supervisor.restart(target),
      stopService: (svc) => supervisor.stopService(svc),
      startService: async (svc) => supervisor.startService(svc),
      logs: (filter, signal) => streamLogs(logs, filter, signal),
      events: (o, signal) => streamEvents(events, o.follow ?? false, signal),
      instanceEnv: async (name) => supervisor.envOf(name),
      runLease: async (svc): Promise<RunLease> => {
        const lease = await supervisor.runEnv(svc);
        const runId = lease.env.MR_INSTANCE_ID ?? `${svc}.run`;
        runs.set(runId, lease.release);
        return { runId, env: lease.env, cwd: lease.cwd, command: lease.command };
      },
      releaseRun: async (runId) => {
        const release = runs.get(runId);
        runs.delete(runId);
        await release?.();
      },
      traffic: async () => ({
        url: `http://localhost:${front.port}`,
        ...(front.httpsPort !== undefined ? { httpsUrl: `https://localhost:${front.httpsPort}` } : {}),
        routes: front.routes(),
        addresses: addresses.list(),
        instances: await front.stats(),
      }),
      database: (action) => databases.run(action, supervisor),
      shutdown: async () => {
        void shutdown();
      },
    };
    // Open dashboard streams end after the instances have stopped (they show the shutdown), before the listener closes.
    const dashboard = createDashboardServer({ room, token, version: VERSION, kv: bus.data.kv, store, events, secrets: () => info.secrets, dir: opts.dashboardDir ?? defaultDashboardDir() });
    cleanup.push(async () => dashboard.close());
    const control = createControlApi({ room, token, version: VERSION, hasSession: (req) => dashboard.hasSession(req), routes: dashboard.routes });
    // One listener: the control API under /v1/machineroom/, the Consul-compatible API for the rest; both loopback-only.
    serveHandler(server, async (req, info) => {
      const path = new URL(req.url).pathname;
      if (path.startsWith('/v1/machineroom/')) return control(req, info);
      const bad = checkOrigin(req);
      if (bad) return new Response(bad.message + '\n', { status: 403, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      if (path === '/ui' || path.startsWith('/ui/')) return dashboard.handleUi(req);
      if (path === '/' && req.method === 'GET') return new Response(null, { status: 302, headers: { location: '/ui/' } }); // as Consul's agent does
      if (path === '/metrics' && req.method === 'GET') {
        const text = renderMetrics(await room.status(), await room.traffic());
        return bufferedResponse(text, { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
      }
      return bus.consul(req, info);
    });
    events.emit({ type: 'daemon', level: 'info', message: `daemon ${VERSION} up for project ${opts.project} (pid ${process.pid}, API ${info.apiUrl}, ${opts.machineMode} machines)` });
    return {
      room,
      supervisor,
      info,
      paths,
      token,
      stopped,
      shutdown: (onProgress) => {
        const p = shutdown();
        if (onProgress) {
          const t = setInterval(() => {
            const left = supervisor.status().filter((i) => i.pid !== undefined).map((i) => i.name);
            if (left.length) onProgress(left);
          }, 1000);
          void p.finally(() => clearInterval(t));
        }
        return p;
      },
      kill: async () => {
        supervisor.killAll();
        await shutdown();
      },
    };
  } catch (err) {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    throw err;
  }
}

/** Writes each seed whose key does not exist yet (create-only CAS, so a concurrent writer wins); reports the others that differ. */
async function seedKv(kv: KvStore, seeds: Record<string, string>): Promise<{ seeded: string[]; differs: string[] }> {
  const seeded: string[] = [];
  const differs: string[] = [];
  for (const [key, value] of Object.entries(seeds)) {
    const existing = kv.get(key);
    if (!existing) {
      if (await kv.set(key, Buffer.from(value), { cas: 0 })) seeded.push(key);
    } else if (!existing.Value.equals(Buffer.from(value))) {
      differs.push(key);
    }
  }
  return { seeded, differs };
}

async function* streamLogs(hub: ReturnType<typeof createLogHub>, filter: { targets?: string[]; tail?: number; since?: number; follow?: boolean }, signal?: AbortSignal): AsyncGenerator<LogLine> {
  const queue = createAsyncQueue<LogLine>(20_000, (n) => ({ ts: Date.now(), source: 'machineroom', service: 'machineroom', stream: 'event', text: `[machineroom] ${n} lines dropped: this reader fell behind` }), signal);
  const unsubscribe = filter.follow ? hub.subscribe({ ...(filter.targets ? { targets: filter.targets } : {}) }, (l) => queue.push(l)) : undefined;
  try {
    const history = hub.read({ ...(filter.targets ? { targets: filter.targets } : {}), ...(filter.tail !== undefined ? { tail: filter.tail } : {}), ...(filter.since !== undefined ? { since: filter.since } : {}) });
    for (const l of history) yield l;
    if (!unsubscribe) return;
    const lastTs = history.length ? history[history.length - 1]!.ts : 0;
    for await (const l of queue) {
      if (l.ts < lastTs && matchesTargets(l, filter.targets)) continue; // already printed from history
      yield l;
    }
  } finally {
    unsubscribe?.();
  }
}

async function* streamEvents(events: ReturnType<typeof createEventLog>, follow: boolean, signal?: AbortSignal): AsyncGenerator<MachineroomEvent> {
  const queue = createAsyncQueue<MachineroomEvent>(10_000, undefined, signal);
  const unsubscribe = follow ? events.subscribe((e) => queue.push(e)) : undefined;
  try {
    const history = events.list();
    for (const e of history) yield e;
    if (!unsubscribe) return;
    const lastSeq = history.length ? history[history.length - 1]!.seq : 0;
    for await (const e of queue) if (e.seq > lastSeq) yield e;
  } finally {
    unsubscribe?.();
  }
}
