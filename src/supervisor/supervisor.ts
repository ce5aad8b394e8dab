// The reconciler: drives instances toward the desired state (config + scale/stop overrides). up, scale, restart-on-crash are one mechanism.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { MachineroomError } from '../errors/index.js';
import type { ResolvedConfig, ResolvedService } from '../config/index.js';
import type { BusStore } from '../bus/index.js';
import type { HealthChecker } from '../health/index.js';
import type { Machine, MachinePool } from '../machines/index.js';
import { primaryPort } from '../machines/index.js';
import { cgroupJoinCommand, createCgroup, listeningSocketsOf, processStartTime, removeCgroup, socketInodesOf } from '../proc/index.js';
import { createLogger } from '../log/index.js';
import type { InstanceRecord } from '../state/index.js';
import { createLineSplitter } from './line-splitter.js';
import type { LogHub } from './log-hub.js';
import type { EventLog } from './event-log.js';
import { instanceEnv } from './instance-env.js';
import { directArgv } from './direct-argv.js';
import { dropPrivileges } from './drop-privileges.js';
import { registrationsOf } from './registration.js';
import { specHashOf, versionOf } from './version.js';
import { killTree, signalGroup, treePids, waitTreeEmpty } from './process-group.js';
import type { ProcessTree } from './process-group.js';
import type { ProbeResult } from '../health/index.js';
import type { ExitInfo, HealthState, InstanceStatus, ProcessState, ServiceStatus } from '../client/index.js';
import { isReady, isSettled } from '../client/index.js';

const log = createLogger('supervisor');

/** A run that lasted this long resets the backoff (the crash was not a crash loop). */
const STABLE_AFTER_MS = 10_000;
/** This many quick exits in a row is a crash loop. */
const CRASHLOOP_AFTER = 3;

interface Instance {
  /** Spawned, but its launch's started() has not settled yet (see Launch.started). */
  launching?: boolean;
  service: string;
  index: number;
  name: string;
  instanceId: string;
  generation: number;
  spec: ResolvedService;
  version: string;
  machine?: Machine;
  state: ProcessState;
  child?: ChildProcess;
  pid?: number;
  startTime?: number;
  tree?: ProcessTree;
  startedAt?: number;
  restarts: number;
  quickExits: number;
  lastExit?: ExitInfo;
  everHealthy: boolean;
  warning?: string;
  backoffTimer?: NodeJS.Timeout;
  listenTimer?: NodeJS.Timeout;
  stopDone?: Promise<void>;
  /** What it registered on the bus, to deregister. */
  registered?: { serviceId: string; checkIds: string[] }[];
  exited?: Promise<void>;
  removing: boolean;
}

interface BuildState {
  state: 'none' | 'running' | 'done' | 'failed';
  forHash: string;
  version?: string;
  error?: string;
  child?: ChildProcess;
  tree?: ProcessTree;
}

interface ServiceState {
  spec: ResolvedService;
  specHash: string;
  build: BuildState;
  instances: Map<number, Instance>;
  override?: { replicas: number; fileReplicas: number };
  stopped: boolean;
  removed: boolean;
}

/** How a service whose command is supplied at launch runs (a database resource). */
export interface Launch {
  /** The argv to run instead of the service's command. */
  argv?: string[];
  /** Variables added to the instance's environment. */
  env?: Record<string, string>;
  /** Where it runs instead of the service's cwd (a directory its user can enter). */
  cwd?: string;
  /** Run as this unprivileged user (when machineroom runs as root). */
  user?: { uid: number; gid: number };
  /** The probe of the instance's check (health kind 'postgres'). */
  probe?: () => Promise<ProbeResult>;
  /** No process at all: the instance stands for a server elsewhere, registered at this address and health-checked. */
  external?: { address: string; port: number };
  /** Hears that the process runs (e.g. to provision it once it answers). */
  onStarted?: (pid: number) => void;
  /**
   * Settles once the program has really begun, not just been spawned (a database server: its postmaster.pid is
   * written). Until then, dependents waiting for it to be `started` wait: they do not take the CPU its first
   * moments need.
   */
  started?: (pid: number) => Promise<void>;
}

/** What the supervisor needs from the daemon. */
export interface SupervisorDeps {
  project: string;
  projectId: string;
  store: BusStore;
  checker: HealthChecker;
  pool: MachinePool;
  logs: LogHub;
  events: EventLog;
  /** Called whenever the set of live processes changes, so they can be recorded for a sweep after a crash. */
  recordProcesses: (records: InstanceRecord[]) => void;
  /** The project's cgroup, relative to the daemon's own (root only); each instance gets one inside it. */
  cgroupDir?: string;
  baseEnv?: NodeJS.ProcessEnv;
  /** Variables that tell instances where the bus is (CONSUL_HTTP_ADDR). */
  busEnv?: Record<string, string>;
  /** Lets in-flight requests to a deregistered instance finish (the front door), before it is signalled. */
  drain?: (serviceId: string) => Promise<void>;
  /** <NAME>_HOST/_PORT/_URL of the service addresses a service depends on. */
  dependencyEnv?: (spec: ResolvedService) => Record<string, string>;
  /** Prepares an instance of a resource (spec.postgres): its data, then its argv, user and probe. */
  launch?: (spec: ResolvedService, machine: Machine, instance: string, note: (text: string) => void) => Promise<Launch>;
}

/** The supervisor's interface to the daemon and control API. */
export interface Supervisor {
  apply(config: ResolvedConfig): { changed: string[]; added: string[]; removed: string[] };
  scale(service: string, replicas: number): void;
  stopService(service: string): Promise<void>;
  startService(service: string): void;
  restart(target: string): Promise<string[]>;
  status(): InstanceStatus[];
  services(): ServiceStatus[];
  envOf(name: string): Record<string, string>;
  /** A one-off process's environment: the service's, on a fresh machine `<service>-run-N` (released by the caller). */
  runEnv(service: string): Promise<{ env: Record<string, string>; cwd: string; command: string[]; release: () => Promise<void> }>;
  /** Stops everything, dependents first; `onProgress` hears what is still being waited for. */
  shutdown(onProgress?: (waitingFor: string[]) => void): Promise<void>;
  /** Runs an instance's check now (it reported being ready), instead of at its next scheduled probe. */
  probeNow(instance: string): void;
  /** Ends an instance's start period: it will not come up by itself (a failed provisioning). */
  endStart(instance: string): void;
  /** SIGKILLs everything at once (a second Ctrl-C). */
  killAll(): void;
  close(): Promise<void>;
}

function describeExit(e: ExitInfo): string {
  return e.signal ? `killed by ${e.signal}` : `exited ${e.code}`;
}

function secondsText(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Math.round(ms / 100) / 10}s`;
}

/** Creates the supervisor. */
export function createSupervisor(deps: SupervisorDeps): Supervisor {
  const services = new Map<string, ServiceState>();
  let order: string[] = [];
  let closed = false;
  let shuttingDown = false;
  let reconcileQueued = false;
  let runCounter = 0;

  const event = deps.events.emit.bind(deps.events);

  function recordProcesses(): void {
    const recs: InstanceRecord[] = [];
    for (const st of services.values()) {
      for (const inst of st.instances.values()) {
        if (inst.pid && inst.tree) recs.push({ id: inst.instanceId, pid: inst.pid, pgid: inst.tree.pgid, startTime: inst.startTime ?? 0, ...(inst.tree.cgroup ? { cgroup: inst.tree.cgroup } : {}) });
      }
      const b = st.build;
      if (b.child?.pid && b.tree) recs.push({ id: `${st.spec.name}.build`, pid: b.child.pid, pgid: b.tree.pgid, startTime: processStartTime(b.child.pid) ?? 0 });
    }
    deps.recordProcesses(recs);
  }

  function queueReconcile(): void {
    if (reconcileQueued || closed) return;
    reconcileQueued = true;
    queueMicrotask(() => {
      reconcileQueued = false;
      reconcile();
    });
  }

  function desiredOf(st: ServiceState): number {
    if (st.removed || st.stopped || shuttingDown) return 0;
    return st.override?.replicas ?? st.spec.replicas;
  }

  // ---- health ----------------------------------------------------------------------------------

  function healthOf(inst: Instance): { health: HealthState; output?: string } {
    if (!inst.spec.health) return { health: 'none' };
    const check = deps.store.check(checkIdOf(inst));
    if (!check) return { health: 'none' };
    if (check.Status === 'critical' && !inst.everHealthy && deps.checker.isStarting(check.CheckID)) return { health: 'starting', output: check.Output };
    return { health: check.Status, output: check.Output };
  }

  function checkIdOf(inst: Instance): string {
    return `service:${inst.name}`;
  }

  deps.store.subscribe((change) => {
    if (change.kind !== 'check' || change.op !== 'set') return;
    const inst = findInstance(change.check.ServiceID);
    if (!inst || inst.state !== 'running') return;
    const now = change.check.Status;
    const before = change.previous;
    if (before === undefined || now === before) return; // registration, or output-only change
    if (now === 'passing') {
      const first = !inst.everHealthy;
      inst.everHealthy = true;
      if (first) probeDependents(inst.service);
      event({ type: 'healthy', level: 'info', service: inst.service, instance: inst.name, message: `${inst.name} is healthy${first && inst.startedAt ? ` after ${secondsText(Date.now() - inst.startedAt)}` : ''}` });
    } else if (inst.everHealthy || !deps.checker.isStarting(change.check.CheckID)) {
      event({ type: 'unhealthy', level: 'warn', service: inst.service, instance: inst.name, message: `${inst.name} is ${now === 'warning' ? 'degraded (warning)' : 'unhealthy'}: ${change.check.Output}` });
      if (now === 'critical' && inst.spec.health?.restart && inst.everHealthy) {
        event({ type: 'restarting', level: 'warn', service: inst.service, instance: inst.name, message: `${inst.name} restarting: its check failed and health.restart is on` });
        void restartInstance(inst);
      }
    }
    queueReconcile();
  });

  /** A dependency just turned healthy: its dependents that are still starting (often waiting for it) are probed now. */
  function probeDependents(service: string): void {
    for (const st of services.values()) {
      if (!st.spec.dependsOn.some((d) => d.service === service)) continue;
      for (const i of st.instances.values()) if (i.state === 'running' && !i.everHealthy && i.spec.health) deps.checker.probeNow(checkIdOf(i));
    }
  }

  function findInstance(name: string): Instance | undefined {
    const dot = name.lastIndexOf('.');
    const st = services.get(name.slice(0, dot));
    return st?.instances.get(Number(name.slice(dot + 1)));
  }

  // ---- builds ----------------------------------------------------------------------------------

  function startBuild(st: ServiceState): void {
    const spec = st.spec;
    const hash = st.specHash;
    if (!spec.build) {
      st.build = { state: 'done', forHash: hash, version: versionOf(hash, []) };
      return;
    }
    const build = spec.build;
    const source = `${spec.name}.build`;
    st.build = { state: 'running', forHash: hash };
    event({ type: 'build', level: 'info', service: spec.name, message: `${spec.name}: building (${build.command.join(' ')})` });
    const [file, ...args] = build.command;
    const env = { ...instanceEnvBase(), ...spec.env, MR_PROJECT: deps.project, MR_PROJECT_ID: deps.projectId, MR_SERVICE: spec.name };
    const child = spawn(file ?? '/bin/false', args, { cwd: build.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = Date.now();
    st.build.child = child;
    if (child.pid) st.build.tree = { pgid: child.pid };
    recordProcesses();
    pipeOutput(child, source, spec.name);
    const finish = (ok: boolean, message: string) => {
      if (st.build.forHash !== hash) return; // superseded by a newer spec
      delete st.build.child;
      if (ok) {
        st.build = { state: 'done', forHash: hash, version: versionOf(hash, build.outputs) };
        event({ type: 'build', level: 'info', service: spec.name, message: `${spec.name}: build finished in ${secondsText(Date.now() - started)} (version ${st.build.version})` });
      } else {
        st.build = { state: 'failed', forHash: hash, error: message };
        event({ type: 'build', level: 'error', service: spec.name, message: `${spec.name}: build failed: ${message}; the running instances (if any) keep serving` });
      }
      recordProcesses();
      queueReconcile();
    };
    child.once('error', (err) => finish(false, err.message));
    child.once('exit', (code, signal) => {
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
      finish(code === 0, signal ? `killed by ${signal}` : `exited ${code}`);
    });
  }

  function instanceEnvBase(): NodeJS.ProcessEnv {
    return deps.baseEnv ?? process.env;
  }

  // ---- output ----------------------------------------------------------------------------------

  function pipeOutput(child: ChildProcess, source: string, service: string, onLine?: (text: string) => void): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      if (!readable) continue;
      const splitter = createLineSplitter((text) => {
        deps.logs.write({ ts: Date.now(), source, service, stream, text });
        onLine?.(text);
      });
      readable.on('data', (c: Buffer) => splitter.push(c));
      readable.on('end', () => splitter.end());
      readable.on('error', () => splitter.end());
    }
  }

  // ---- spawning --------------------------------------------------------------------------------

  function depsSatisfied(spec: ResolvedService): { ok: boolean; waitingFor?: string } {
    for (const d of spec.dependsOn) {
      const st = services.get(d.service);
      if (!st) return { ok: false, waitingFor: `${d.service} (not in the config)` };
      const want = desiredOf(st);
      const insts = [...st.instances.values()].filter((i) => i.index <= want);
      if (insts.length < want) return { ok: false, waitingFor: `${d.service} to be ${d.condition}` };
      for (const i of insts) {
        const status = statusOf(i);
        const ok =
          d.condition === 'started'
            ? i.state === 'running' && !i.launching
            : d.condition === 'healthy'
              ? isReady(status)
              : i.state === 'exited' && i.lastExit?.code === 0;
        if (!ok) return { ok: false, waitingFor: `${d.service} to be ${d.condition}` };
      }
    }
    return { ok: true };
  }

  async function spawnInstance(inst: Instance): Promise<void> {
    inst.state = 'starting';
    try {
      if (!inst.machine) {
        inst.machine = await deps.pool.lease(inst.name.replace('.', '-'), inst.spec.ports);
        deps.store.registerNode({ Node: inst.machine.name, Address: inst.machine.address, Meta: { 'machineroom-project': deps.project } });
      }
    } catch (err) {
      inst.state = 'failed';
      event({ type: 'error', level: 'error', service: inst.service, instance: inst.name, message: `${inst.name} could not get a machine: ${(err as Error).message}` });
      return;
    }
    if (inst.state !== 'starting' || closed) return; // stopped while leasing
    const machine = inst.machine;
    let launch: Launch | undefined;
    if (inst.spec.postgres) {
      try {
        if (!deps.launch) throw new Error('this daemon cannot run database resources');
        inst.warning = 'preparing its data';
        inst.startedAt = Date.now(); // a launch that fails at once counts as a quick exit (backoff, crash loop)
        launch = await deps.launch(inst.spec, machine, inst.name, (text) => {
          if (inst.state === 'starting') inst.warning = text;
        });
        delete inst.warning;
      } catch (err) {
        if (inst.state !== 'starting') return;
        onLaunchFailure(inst, (err as Error).message);
        return;
      }
      if (inst.state !== 'starting' || closed) return; // stopped while preparing
    }
    const env = { ...instanceEnv(inst.spec, machine, { project: deps.project, projectId: deps.projectId, service: inst.service, index: inst.index, instanceId: inst.instanceId }, instanceEnvBase(), deps.busEnv, deps.dependencyEnv?.(inst.spec)), ...launch?.env };
    inst.generation += 1;
    if (launch?.external) {
      runExternal(inst, machine, env, launch);
      return;
    }
    let argv = directArgv(launch?.argv ?? inst.spec.command);
    let cgroup: string | undefined;
    const user = launch?.user;
    if (deps.cgroupDir) {
      cgroup = createCgroup(`${deps.cgroupDir}/${inst.name}-${inst.generation}`);
      // Joining the cgroup needs root; the user switch comes after it, inside the same exec chain.
      if (cgroup) argv = cgroupJoinCommand(cgroup, user ? dropPrivileges(user, argv) : argv);
    }
    const [file, ...args] = argv;
    event({ type: 'starting', level: 'info', service: inst.service, instance: inst.name, message: `${inst.name} starting on ${machine.name} (${machine.address}${primaryPort(machine, inst.spec.ports) ? `:${primaryPort(machine, inst.spec.ports)}` : ''})` });
    let child: ChildProcess;
    try {
      const asUser = user && !cgroup ? { uid: user.uid, gid: user.gid } : {};
      child = spawn(file ?? '/bin/false', args, { cwd: launch?.cwd ?? inst.spec.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...asUser });
    } catch (err) {
      inst.state = 'failed';
      event({ type: 'error', level: 'error', service: inst.service, instance: inst.name, message: `${inst.name} could not start: ${(err as Error).message}` });
      return;
    }
    inst.child = child;
    inst.startedAt = Date.now();
    inst.everHealthy = false;
    // A bind conflict stays reported across the restarts it causes, until the app binds its own address.
    if (!inst.warning?.startsWith('cannot bind')) delete inst.warning;
    if (child.pid) {
      inst.pid = child.pid;
      inst.tree = { pgid: child.pid, ...(cgroup ? { cgroup } : {}) };
      const st = processStartTime(child.pid);
      if (st !== undefined) inst.startTime = st;
    }
    recordProcesses();
    pipeOutput(child, inst.name, inst.service, (text) => noticeBindConflict(inst, text));
    inst.exited = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        if (inst.child !== child) return resolve();
        onExit(inst, { code: null, signal: null, at: Date.now() }, err.message);
        resolve();
      });
      child.once('exit', (code, signal) => {
        if (inst.child !== child) return resolve();
        onExit(inst, { code, signal, at: Date.now() });
        resolve();
      });
    });
    if (!child.pid) return; // spawn error follows
    inst.state = 'running';
    const port = primaryPort(machine, inst.spec.ports);
    register(inst, machine, env);
    addCheck(inst, machine, env, port, launch?.probe);
    event({ type: 'started', level: 'info', service: inst.service, instance: inst.name, message: `${inst.name} started (pid ${child.pid}, version ${inst.version})` });
    launch?.onStarted?.(child.pid);
    if (launch?.started) {
      inst.launching = true;
      void launch
        .started(child.pid)
        .catch(() => undefined)
        .finally(() => {
          if (inst.child !== child) return;
          inst.launching = false;
          queueReconcile();
        });
    }
    watchListening(inst);
    queueReconcile();
  }

  function addCheck(inst: Instance, machine: Machine, env: Record<string, string>, port: number | undefined, probe?: () => Promise<ProbeResult>, address = machine.address): void {
    if (!inst.spec.health) {
      inst.everHealthy = true;
      return;
    }
    const h = inst.spec.health;
    const checkPort = h.port ? machine.ports[h.port] : port;
    const relaxed = inst.spec.dependsOn.length > 0 ? () => !dependenciesSettled(inst.spec) : undefined;
    deps.checker.add({ checkId: checkIdOf(inst), serviceId: inst.name, serviceName: inst.service, node: machine.name, health: h, address, port: checkPort, env, cwd: inst.spec.cwd, ...(probe ? { probe } : {}), ...(relaxed ? { relaxed } : {}) });
  }

  /** Whether every instance of every service `spec` depends on is ready (or a job that completed). */
  function dependenciesSettled(spec: ResolvedService): boolean {
    return spec.dependsOn.every((d) => {
      const st = services.get(d.service);
      return st !== undefined && [...st.instances.values()].every((i) => isSettled(statusOf(i)));
    });
  }

  /** An external server: registered at its own address and health-checked, never started or stopped. */
  function runExternal(inst: Instance, machine: Machine, env: Record<string, string>, launch: Launch): void {
    const at = launch.external!;
    inst.state = 'running';
    inst.startedAt = Date.now();
    inst.everHealthy = false;
    register(inst, machine, env, at);
    addCheck(inst, machine, env, at.port, launch.probe, at.address);
    event({ type: 'started', level: 'info', service: inst.service, instance: inst.name, message: `${inst.name} registered: an external server at ${at.address}:${at.port} (not managed; health-checked)` });
    queueReconcile();
  }

  /** A resource that could not be prepared ends like a process that failed to start: the restart policy and backoff apply. */
  function onLaunchFailure(inst: Instance, message: string): void {
    inst.warning = message;
    onExit(inst, { code: null, signal: null, at: Date.now() }, message);
  }

  /** Registers the instance's services (and registrator-convention checks) on its machine's node. */
  function register(inst: Instance, machine: Machine, env: Record<string, string>, external?: { address: string; port: number }): void {
    const regs = registrationsOf(inst.spec, machine, { name: inst.name, index: inst.index, version: inst.version, project: deps.project });
    inst.registered = [];
    for (const reg of regs) {
      if (external) Object.assign(reg.service, { Address: external.address, Port: external.port });
      deps.store.registerService(reg.service);
      inst.registered.push({ serviceId: reg.service.ID, checkIds: reg.checks.map((c) => c.checkId) });
      for (const c of reg.checks) {
        const common = { checkId: c.checkId, serviceId: reg.service.ID, serviceName: reg.service.Service, node: machine.name, ...(c.initialStatus ? { initialStatus: c.initialStatus } : {}), ...(c.deregisterAfter ? { deregisterCriticalAfter: c.deregisterAfter } : {}) };
        if (c.kind === 'ttl') deps.checker.addTtl({ ...common, ttl: c.ttl });
        else deps.checker.add({ ...common, health: c.health, address: machine.address, port: c.port, env, cwd: inst.spec.cwd });
      }
    }
  }

  function haltChecks(inst: Instance, output: string): void {
    deps.checker.halt(checkIdOf(inst), output);
    for (const r of inst.registered ?? []) for (const c of r.checkIds) deps.checker.halt(c, output);
  }

  /** Deregisters everything the instance registered: first, before it is signalled, so routers stop sending it work. */
  function deregister(inst: Instance): void {
    deps.checker.remove(checkIdOf(inst));
    for (const r of inst.registered ?? []) {
      for (const c of r.checkIds) deps.checker.remove(c);
      deps.store.deregisterService(r.serviceId);
    }
    deps.store.deregisterService(inst.name);
    inst.registered = [];
  }

  /**
   * An app that binds the wildcard address cannot share its port with the service's own address (or a sibling):
   * Node, Python and Go all print EADDRINUSE with the address, which is turned into advice naming $HOST.
   */
  function noticeBindConflict(inst: Instance, text: string): void {
    if (!inst.machine || inst.machine.mode !== 'loopback' || !text.includes('EADDRINUSE') && !text.includes('Address already in use')) return;
    const m = /(0\.0\.0\.0|\[?::\]?|\*)[:.](\d{1,5})\b/.exec(text);
    if (!m) return;
    const where = m[1] === '0.0.0.0' ? `0.0.0.0:${m[2]}` : `[::]:${m[2]}`;
    const advice = `cannot bind ${where} (every address on the port): the port is shared with the service address and other replicas; bind $HOST (${inst.machine.address})`;
    if (inst.warning === advice) return;
    inst.warning = advice;
    event({ type: 'listen', level: 'warn', service: inst.service, instance: inst.name, message: `${inst.name} ${advice}` });
  }

  /** Reports an app that ignores $HOST: bound to the wildcard address, or to another loopback address than its machine's. */
  function watchListening(inst: Instance): void {
    if (inst.spec.ports.length === 0 || !inst.machine) return;
    const machine = inst.machine;
    const deadline = Date.now() + 30_000;
    // Reading the kernel's TCP tables walks every hash bucket (milliseconds each on a big machine): a table read for
    // another instance within the last 400 ms is used again, and none is read while the tree's open sockets are the
    // same as at the last look (but every fifth tick anyway: a socket may start listening after it appeared).
    let seen = '';
    let sockets: ReturnType<typeof listeningSocketsOf> = [];
    let ticks = 0;
    const tick = () => {
      delete inst.listenTimer;
      if (inst.state !== 'running' || !inst.tree) return;
      const pids = treePids(inst.tree);
      const open = pids.map((pid) => [...socketInodesOf(pid)].sort().join(',')).join(';');
      if (open !== seen || ticks++ % 5 === 0) {
        seen = open;
        sockets = listeningSocketsOf(pids, { maxAgeMs: 400 });
      }
      const bad = sockets.find((s) => s.isWildcard || (machine.mode === 'loopback' && s.address !== machine.address && s.address.startsWith('127.')));
      if (bad) {
        const where = bad.address.includes(':') ? `[${bad.address}]:${bad.port}` : `${bad.address}:${bad.port}`;
        inst.warning = `listens on ${where}; bind $HOST (${machine.address})`;
        event({ type: 'listen', level: 'warn', service: inst.service, instance: inst.name, message: `${inst.name} listens on ${where}; bind $HOST (${machine.address}) so every replica can use port ${bad.port}` });
        return;
      }
      const good = sockets.some((s) => s.address === machine.address);
      if (good && inst.everHealthy) return;
      // Bound where it should be: a slower look until it is healthy, in case it binds a wildcard as well.
      if (Date.now() < deadline) inst.listenTimer = setTimeout(tick, good ? 1000 : 300);
    };
    inst.listenTimer = setTimeout(tick, 200);
  }

  // ---- exits and restarts ----------------------------------------------------------------------

  function onExit(inst: Instance, exit: ExitInfo, spawnError?: string): void {
    delete inst.child;
    if (inst.listenTimer) clearTimeout(inst.listenTimer);
    inst.lastExit = exit;
    const tree = inst.tree;
    const planned = inst.state === 'stopping';
    if (planned) deregister(inst);
    if (!planned && tree) killTree(tree); // whatever the crashed process left behind goes with it
    if (!planned) {
      delete inst.pid;
      delete inst.tree;
      if (tree?.cgroup) setTimeout(() => removeCgroup(tree.cgroup!), 500).unref();
    }
    recordProcesses();
    if (planned) return; // stopInstance finishes the job
    const ranMs = Date.now() - (inst.startedAt ?? Date.now());
    const policy = inst.spec.restart.policy;
    const failed = spawnError !== undefined || exit.code !== 0;
    const restart = !shuttingDown && !closed && (policy === 'always' || (policy === 'on-failure' && failed));
    const what = spawnError ? `failed to start: ${spawnError}` : describeExit(exit);
    // Restarting: the instance stays on the bus as critical (routers skip it, the catalog shows why); otherwise it leaves.
    if (restart) haltChecks(inst, `${inst.name} ${what}; restarting`);
    else deregister(inst);
    event({ type: 'exited', level: failed ? 'warn' : 'info', service: inst.service, instance: inst.name, message: `${inst.name} ${what}${ranMs < 1000 ? ` after ${ranMs}ms` : ` after ${secondsText(ranMs)}`}` });
    if (!restart) {
      inst.state = spawnError ? 'failed' : 'exited';
      queueReconcile();
      return;
    }
    inst.quickExits = ranMs < STABLE_AFTER_MS ? inst.quickExits + 1 : 1;
    const { backoff, maxBackoff } = inst.spec.restart;
    const delay = Math.min(backoff * 2 ** (inst.quickExits - 1), maxBackoff);
    if (inst.quickExits >= CRASHLOOP_AFTER) {
      if (inst.state !== 'crashloop') event({ type: 'crashloop', level: 'error', service: inst.service, instance: inst.name, message: `${inst.name} is in a crash loop: ${inst.quickExits} exits within ${STABLE_AFTER_MS / 1000}s of starting; last: ${what}` });
      inst.state = 'crashloop';
    } else {
      inst.state = 'backoff';
    }
    event({ type: 'restarting', level: 'info', service: inst.service, instance: inst.name, message: `${inst.name} restarting in ${secondsText(delay)}` });
    inst.backoffTimer = setTimeout(() => {
      delete inst.backoffTimer;
      if (inst.state !== 'backoff' && inst.state !== 'crashloop') return;
      inst.restarts += 1;
      void spawnInstance(inst);
    }, delay);
    queueReconcile();
  }

  /** Stops one instance: deregister → signal its group → grace → SIGKILL; resolves when all its processes are gone. */
  function stopInstance(inst: Instance, reason: string): Promise<void> {
    if (inst.stopDone) return inst.stopDone;
    const run = async () => {
      if (inst.backoffTimer) {
        clearTimeout(inst.backoffTimer);
        delete inst.backoffTimer;
      }
      if (inst.listenTimer) clearTimeout(inst.listenTimer);
      if (!inst.child || !inst.tree) {
        // An external server only leaves the bus; a crashed one waiting to restart leaves its critical entry.
        deregister(inst);
        if (inst.state === 'running') event({ type: 'stopped', level: 'info', service: inst.service, instance: inst.name, message: `${inst.name} deregistered (${reason})` });
        inst.state = 'stopped';
        return;
      }
      const tree = inst.tree;
      inst.state = 'stopping';
      const ids = [inst.name, ...(inst.registered ?? []).map((r) => r.serviceId)];
      deregister(inst);
      if (deps.drain) await Promise.all([...new Set(ids)].map((id) => deps.drain!(id).catch(() => undefined)));
      const grace = inst.spec.stopGrace;
      event({ type: 'stopping', level: 'info', service: inst.service, instance: inst.name, message: `${inst.name} stopping (${reason}; ${inst.spec.stopSignal}, grace ${secondsText(grace)})` });
      const began = Date.now();
      signalGroup(tree.pgid, inst.spec.stopSignal);
      const deadline = began + grace;
      const exited = inst.exited ?? Promise.resolve();
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), grace).unref())]);
      let killed = timedOut;
      if (timedOut) killTree(tree);
      if (!(await waitTreeEmpty(tree, killed ? Date.now() + 5000 : deadline))) {
        killed = true;
        killTree(tree);
        await waitTreeEmpty(tree, Date.now() + 5000);
      }
      await exited;
      if (tree.cgroup) removeCgroup(tree.cgroup);
      delete inst.pid;
      delete inst.tree;
      inst.state = 'stopped';
      recordProcesses();
      event({ type: 'stopped', level: 'info', service: inst.service, instance: inst.name, message: `${inst.name} stopped in ${secondsText(Date.now() - began)}${killed ? ' (SIGKILL after the grace period)' : ''}` });
    };
    inst.stopDone = run().finally(() => {
      delete inst.stopDone;
      queueReconcile();
    });
    return inst.stopDone;
  }

  async function removeInstance(st: ServiceState, inst: Instance, reason: string): Promise<void> {
    inst.removing = true;
    await stopInstance(inst, reason);
    if (st.instances.get(inst.index) === inst) st.instances.delete(inst.index);
    if (inst.machine) {
      deps.store.deregisterNode(inst.machine.name);
      await deps.pool.release(inst.machine).catch((err: unknown) => log.warn(`releasing ${inst.machine?.name}: ${String(err)}`));
    }
    queueReconcile();
  }

  async function restartInstance(inst: Instance): Promise<void> {
    await stopInstance(inst, 'restart');
    if (closed || shuttingDown || inst.removing) return;
    inst.restarts += 1;
    inst.quickExits = 0;
    void spawnInstance(inst);
  }

  // ---- reconcile -------------------------------------------------------------------------------

  function newInstance(st: ServiceState, index: number, version: string): Instance {
    const name = `${st.spec.name}.${index}`;
    return {
      service: st.spec.name,
      index,
      name,
      instanceId: `${deps.projectId}:${name}`,
      generation: 0,
      spec: st.spec,
      version,
      state: 'waiting',
      restarts: 0,
      quickExits: 0,
      everHealthy: false,
      removing: false,
    };
  }

  function reconcile(): void {
    if (closed) return;
    for (const name of [...services.keys()]) {
      const st = services.get(name)!;
      const desired = desiredOf(st);
      // Scale down, highest-numbered first.
      const extra = [...st.instances.values()].filter((i) => i.index > desired && !i.removing).sort((a, b) => b.index - a.index);
      for (const inst of extra) void removeInstance(st, inst, desired === 0 && st.stopped ? 'service stopped' : st.removed ? 'removed from the config' : shuttingDown ? 'shutting down' : 'scaled down');
      if (st.removed && st.instances.size === 0) {
        services.delete(name);
        continue;
      }
      if (desired === 0) continue;
      if (st.build.forHash !== st.specHash) startBuild(st);
      const built = st.build.state === 'done' ? st.build.version : undefined;
      // Instances that never ran follow the current spec; they wait (visible in ps) while the build runs.
      for (let i = 1; i <= desired; i++) {
        if (!st.instances.has(i)) st.instances.set(i, newInstance(st, i, built ?? 'building'));
      }
      for (const inst of st.instances.values()) {
        if (inst.state === 'waiting' && !inst.removing) {
          inst.spec = st.spec;
          inst.version = built ?? 'building';
        }
      }
      if (!built) continue;
      const version = built;
      // Replace instances of an older version (Compose's recreate; rolling updates come later).
      for (const inst of st.instances.values()) {
        if (inst.version !== version && !inst.removing) void removeInstance(st, inst, `new version ${version}`);
      }
      for (let i = 1; i <= desired; i++) {
        if (!st.instances.has(i)) st.instances.set(i, newInstance(st, i, version));
      }
      const gate = depsSatisfied(st.spec);
      for (const inst of st.instances.values()) {
        if (inst.state !== 'waiting' || inst.removing) continue;
        if (gate.ok) void spawnInstance(inst);
      }
    }
  }

  // ---- status ----------------------------------------------------------------------------------

  function statusOf(inst: Instance): InstanceStatus {
    const h = healthOf(inst);
    const s: InstanceStatus = {
      name: inst.name,
      instanceId: inst.instanceId,
      service: inst.service,
      index: inst.index,
      state: inst.state,
      health: inst.state === 'running' ? h.health : inst.spec.health ? 'critical' : 'none',
      version: inst.version,
      restarts: inst.restarts,
      ports: inst.machine?.ports ?? {},
    };
    if (inst.state !== 'running' && inst.spec.health) s.health = inst.state === 'waiting' || inst.state === 'starting' ? 'starting' : 'critical';
    if (h.output !== undefined) s.healthOutput = h.output;
    if (inst.lastExit) s.lastExit = inst.lastExit;
    if (inst.pid) s.pid = inst.pid;
    if (inst.startedAt && inst.child) s.startedAt = inst.startedAt;
    if (inst.machine) {
      s.machine = inst.machine.name;
      s.address = inst.machine.address;
    }
    if (inst.warning) s.warning = inst.warning;
    if (inst.state === 'waiting') {
      const st = services.get(inst.service);
      const gate = st ? depsSatisfied(st.spec) : { ok: true };
      if (st?.build.state === 'running') s.warning = 'waiting for its build';
      else if (st?.build.state === 'failed') {
        s.state = 'failed';
        s.warning = `build failed: ${st.build.error}; see machineroom logs ${inst.service}.build`;
      }
      else if (!gate.ok) s.warning = `waiting for ${gate.waitingFor}`;
    }
    return s;
  }

  function serviceState(name: string): ServiceState {
    const st = services.get(name);
    if (!st || st.removed) {
      const known = [...services.keys()].filter((n) => !services.get(n)?.removed);
      throw new MachineroomError('ERR_SERVICE_NOT_FOUND', `no service "${name}" in this project; services: ${known.join(', ') || '(none)'}`);
    }
    return st;
  }

  function instanceByName(name: string): Instance {
    const inst = findInstance(name);
    if (!inst) {
      const all = [...services.values()].flatMap((s) => [...s.instances.values()].map((i) => i.name));
      throw new MachineroomError('ERR_INSTANCE_NOT_FOUND', `no instance "${name}"; running instances: ${all.join(', ') || '(none)'}`);
    }
    return inst;
  }

  async function stopAllOf(st: ServiceState, reason: string): Promise<void> {
    await Promise.all([...st.instances.values()].map((i) => removeInstance(st, i, reason)));
  }

  return {
    apply(config) {
      const changed: string[] = [];
      const added: string[] = [];
      const removed: string[] = [];
      order = config.order;
      for (const name of config.order) {
        const spec = config.services[name]!;
        const hash = specHashOf(spec);
        const st = services.get(name);
        if (!st || st.removed) {
          services.set(name, { spec, specHash: hash, build: { state: 'none', forHash: '' }, instances: st?.instances ?? new Map(), stopped: false, removed: false });
          added.push(name);
          continue;
        }
        if (st.override && st.override.fileReplicas !== spec.replicas) delete st.override;
        if (st.specHash !== hash) {
          st.specHash = hash;
          changed.push(name);
        }
        st.spec = spec;
      }
      for (const [name, st] of services) {
        if (!config.services[name] && !st.removed) {
          st.removed = true;
          removed.push(name);
        }
      }
      if (added.length + changed.length + removed.length > 0) {
        const parts = [added.length ? `added ${added.join(', ')}` : '', changed.length ? `changed ${changed.join(', ')}` : '', removed.length ? `removed ${removed.join(', ')}` : ''].filter(Boolean);
        event({ type: 'config', level: 'info', message: `config applied: ${parts.join('; ')}` });
      }
      reconcile();
      return { changed, added, removed };
    },
    scale(service, replicas) {
      const st = serviceState(service);
      if (!Number.isInteger(replicas) || replicas < 0) throw new MachineroomError('ERR_USAGE', `scale ${service}=${replicas}: expected a whole number >= 0`);
      const before = desiredOf(st);
      st.override = { replicas, fileReplicas: st.spec.replicas };
      st.stopped = false;
      event({ type: 'scaled', level: 'info', service, message: `${service} scaled ${before} → ${replicas}` });
      reconcile();
    },
    async stopService(service) {
      const st = serviceState(service);
      st.stopped = true;
      event({ type: 'stopping', level: 'info', service, message: `${service} stopping (machineroom stop)` });
      await stopAllOf(st, 'service stopped');
    },
    startService(service) {
      const st = serviceState(service);
      st.stopped = false;
      for (const inst of st.instances.values()) {
        if (inst.state === 'exited' || inst.state === 'failed' || inst.state === 'stopped') inst.state = 'waiting';
      }
      reconcile();
    },
    async restart(target) {
      const insts = target.includes('.') ? [instanceByName(target)] : [...serviceState(target).instances.values()];
      await Promise.all(insts.map((i) => restartInstance(i)));
      return insts.map((i) => i.name);
    },
    status() {
      const out: InstanceStatus[] = [];
      for (const name of order.concat([...services.keys()].filter((n) => !order.includes(n)))) {
        const st = services.get(name);
        if (!st) continue;
        for (const inst of [...st.instances.values()].sort((a, b) => a.index - b.index)) out.push(statusOf(inst));
      }
      return out;
    },
    services() {
      return [...services.entries()]
        .filter(([, st]) => !st.removed)
        .map(([name, st]) => {
          const s: ServiceStatus = { name, desired: desiredOf(st), build: st.build.state, stopped: st.stopped };
          if (st.build.version) s.version = st.build.version;
          if (st.build.error) s.buildError = st.build.error;
          if (st.override) s.scaled = st.override.replicas;
          return s;
        });
    },
    envOf(name) {
      const inst = instanceByName(name);
      if (!inst.machine) throw new MachineroomError('ERR_INSTANCE_NOT_FOUND', `${name} has no machine yet (state ${inst.state}); wait until it runs`);
      return instanceEnv(inst.spec, inst.machine, { project: deps.project, projectId: deps.projectId, service: inst.service, index: inst.index, instanceId: inst.instanceId }, instanceEnvBase(), deps.busEnv, deps.dependencyEnv?.(inst.spec));
    },
    async runEnv(service) {
      const st = serviceState(service);
      const n = ++runCounter;
      const machine = await deps.pool.lease(`${service}-run-${n}`, st.spec.ports);
      const env = instanceEnv(st.spec, machine, { project: deps.project, projectId: deps.projectId, service, index: 0, instanceId: `${deps.projectId}:${service}.run-${n}` }, instanceEnvBase(), deps.busEnv, deps.dependencyEnv?.(st.spec));
      return { env, cwd: st.spec.cwd, command: st.spec.command, release: () => deps.pool.release(machine) };
    },
    async shutdown(onProgress) {
      shuttingDown = true;
      const stops = new Map<string, Promise<void>>();
      const names = [...services.keys()];
      const dependentsOf = (svc: string) => names.filter((n) => services.get(n)?.spec.dependsOn.some((d) => d.service === svc));
      const stopService = (name: string, seen: Set<string>): Promise<void> => {
        const existing = stops.get(name);
        if (existing) return existing;
        const p = (async () => {
          const next = new Set(seen).add(name);
          await Promise.all(dependentsOf(name).filter((d) => !next.has(d)).map((d) => stopService(d, next)));
          const st = services.get(name);
          if (st) await stopAllOf(st, 'shutting down');
        })();
        stops.set(name, p);
        return p;
      };
      // Builds are killed at once: a half-done build is worth nothing.
      for (const st of services.values()) if (st.build.tree) killTree(st.build.tree);
      const ticker = onProgress
        ? setInterval(() => {
            const left = [...services.values()].flatMap((s) => [...s.instances.values()].filter((i) => i.child).map((i) => i.name));
            if (left.length) onProgress(left);
          }, 1000)
        : undefined;
      try {
        await Promise.all(names.map((n) => stopService(n, new Set())));
      } finally {
        if (ticker) clearInterval(ticker);
      }
    },
    endStart(name) {
      const inst = findInstance(name);
      if (inst) deps.checker.endStart(checkIdOf(inst));
    },
    probeNow(name) {
      const inst = findInstance(name);
      if (inst) deps.checker.probeNow(checkIdOf(inst));
    },
    killAll() {
      shuttingDown = true;
      for (const st of services.values()) {
        if (st.build.tree) killTree(st.build.tree);
        for (const inst of st.instances.values()) {
          if (inst.backoffTimer) clearTimeout(inst.backoffTimer);
          if (inst.tree) killTree(inst.tree);
        }
      }
    },
    async close() {
      if (closed) return;
      await this.shutdown();
      closed = true;
      deps.checker.close();
      for (const st of services.values()) for (const inst of st.instances.values()) if (inst.machine) await deps.pool.release(inst.machine).catch(() => undefined);
    },
  };
}
