// Runs every instance's readiness check on its interval and writes each result to the bus store.
import type { BusStore, CheckStatus } from '../bus/index.js';
import type { ResolvedHealth } from '../config/index.js';
import { probeCmd, probeHttp, probeTcp } from './probes.js';
import type { HttpProbeOptions, ProbeResult } from './probes.js';

/** One check to run against one instance. */
export interface CheckSpec {
  checkId: string;
  serviceId: string;
  serviceName: string;
  node: string;
  health: ResolvedHealth;
  address: string;
  port: number | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** A full URL for http checks (http:// or https://), instead of http://address:port + health.path. */
  url?: string;
  /** Method, headers, body and TLS verification of an http check (Consul's HTTP check fields). */
  http?: HttpProbeOptions;
  /** Check name (default "Service '<name>' check"). */
  name?: string;
  /** Status until the first result (Consul: critical unless given). */
  initialStatus?: CheckStatus;
  /** Deregister the service when this check has been critical this long (Consul's DeregisterCriticalServiceAfter). */
  deregisterCriticalAfter?: number;
  /** The probe of a check whose kind needs more than an address (a database query with credentials). */
  probe?: () => Promise<ProbeResult>;
  /**
   * True while the instance waits on something that will call probeNow when it is there (its dependencies turning
   * healthy): until then its probes before the first pass come at most every RELAXED_MS instead of every 100 ms.
   */
  relaxed?: () => boolean;
}

/** A TTL check: the application reports its status (check/pass|warn|fail|update); silence past the TTL is critical. */
export interface TtlCheckSpec {
  checkId: string;
  serviceId: string;
  serviceName: string;
  node: string;
  ttl: number;
  name?: string;
  notes?: string;
  initialStatus?: CheckStatus;
  deregisterCriticalAfter?: number;
}

/** Schedules checks; close() stops them all. */
export interface HealthChecker {
  add(spec: CheckSpec): void;
  addTtl(spec: TtlCheckSpec): void;
  /** Records a TTL check's status and restarts its TTL; false when `checkId` is not a TTL check of this checker. */
  updateTtl(checkId: string, status: CheckStatus, output: string): boolean;
  remove(checkId: string): void;
  /** Probes now instead of at the next scheduled time (the instance said it is ready); no-op while a probe runs. */
  probeNow(checkId: string): void;
  /** Ends a check's start period early: its failures count from now (the instance knows it will not come up). */
  endStart(checkId: string): void;
  /** Stops probing but keeps the check on the bus as critical with this output (a crashed process that will restart). */
  halt(checkId: string, output: string): void;
  /** True while a check has never passed and is still within its start period or its first failure_threshold failures. */
  isStarting(checkId: string): boolean;
  close(): void;
}

interface Running {
  spec: CheckSpec;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  successes: number;
  failures: number;
  everPassed: boolean;
  stopped: boolean;
  failedProbes: number;
  inFlight: boolean;
  startEnded: boolean;
}

function describe(h: ResolvedHealth, address: string, port: number | undefined): string {
  switch (h.kind) {
    case 'http':
      return `HTTP GET http://${address}:${port}${h.path}`;
    case 'tcp':
      return `TCP ${address}:${port}`;
    case 'postgres':
      return `postgres query on ${address}:${port}`;
    case 'cmd':
    default:
      return `cmd ${(h.command ?? []).join(' ')}`;
  }
}

function runProbe(spec: CheckSpec): Promise<ProbeResult> {
  const h = spec.health;
  if (spec.probe) return spec.probe();
  switch (h.kind) {
    case 'postgres':
      return Promise.resolve({ status: 'critical', output: 'no probe was supplied for this postgres check' });
    case 'http':
      return probeHttp(spec.url ?? `http://${spec.address}:${spec.port}${h.path ?? '/'}`, h.timeout, spec.http);
    case 'tcp':
      return probeTcp(spec.address, spec.port ?? 0, h.timeout);
    case 'cmd':
    default:
      return probeCmd(h.command ?? [], { env: spec.env, cwd: spec.cwd, timeoutMs: h.timeout });
  }
}

/** Applies thresholds: a status flips only after enough consecutive results (Consul's success_before_passing / failures_before_critical). */
function nextStatus(r: Running, current: CheckStatus, result: ProbeResult, now: number): CheckStatus {
  const h = r.spec.health;
  if (result.status === 'passing') {
    r.failures = 0;
    r.successes += 1;
    if (current === 'passing' || r.successes >= h.successThreshold) {
      r.everPassed = true;
      return 'passing';
    }
    return current;
  }
  r.successes = 0;
  r.failedProbes += 1;
  const inStartPeriod = !r.everPassed && !r.startEnded && now - r.startedAt < h.startPeriod;
  if (inStartPeriod) return current;
  r.failures += 1;
  if (current !== 'passing' || r.failures >= h.failureThreshold) return result.status;
  return current;
}

/** The shortest time a never-passed check counts as starting rather than failing. */
const MIN_STARTING_MS = 5_000;
/** The least wait between probes of a check marked relaxed (see CheckSpec.relaxed). */
const RELAXED_MS = 500;

interface Ttl {
  spec: TtlCheckSpec;
  timer: NodeJS.Timeout | undefined;
}

/** Creates a checker writing to `store`. `onReap` hears of services deregistered by DeregisterCriticalServiceAfter. */
export function createHealthChecker(store: BusStore, now: () => number = Date.now, onReap?: (serviceId: string) => void): HealthChecker {
  const running = new Map<string, Running>();
  const ttls = new Map<string, Ttl>();
  // DeregisterCriticalServiceAfter: when each check turned critical, and how long it may stay so.
  const reapAfter = new Map<string, { serviceId: string; after: number }>();
  const criticalSince = new Map<string, number>();
  let reaper: NodeJS.Timeout | undefined;

  function trackCritical(checkId: string, status: CheckStatus): void {
    if (!reapAfter.has(checkId)) return;
    if (status === 'critical') {
      if (!criticalSince.has(checkId)) criticalSince.set(checkId, now());
    } else criticalSince.delete(checkId);
    if (criticalSince.size > 0 && !reaper) {
      reaper = setInterval(reap, 250);
      reaper.unref();
    }
  }

  function reap(): void {
    for (const [checkId, since] of [...criticalSince]) {
      const r = reapAfter.get(checkId);
      if (!r || now() - since < r.after) continue;
      criticalSince.delete(checkId);
      const owned = [...running.values()].filter((x) => x.spec.serviceId === r.serviceId).map((x) => x.spec.checkId);
      const ownedTtl = [...ttls.values()].filter((x) => x.spec.serviceId === r.serviceId).map((x) => x.spec.checkId);
      for (const id of [...owned, ...ownedTtl]) checker.remove(id);
      store.deregisterService(r.serviceId);
      onReap?.(r.serviceId);
    }
    if (criticalSince.size === 0 && reaper) {
      clearInterval(reaper);
      reaper = undefined;
    }
  }

  function setStatus(checkId: string, status: CheckStatus, output: string): void {
    store.updateCheck(checkId, status, output);
    trackCritical(checkId, status);
  }

  function armTtl(t: Ttl): void {
    if (t.timer) clearTimeout(t.timer);
    t.timer = setTimeout(() => {
      t.timer = undefined;
      setStatus(t.spec.checkId, 'critical', `TTL expired (last output: ${store.check(t.spec.checkId)?.Output ?? ''})`.replace(/ \(last output: \)$/, ''));
    }, t.spec.ttl);
    t.timer.unref();
  }

  async function tick(r: Running): Promise<void> {
    if (r.stopped) return;
    r.inFlight = true;
    const result = await runProbe(r.spec).finally(() => (r.inFlight = false));
    if (r.stopped) return;
    const current = store.check(r.spec.checkId)?.Status ?? 'critical';
    const status = nextStatus(r, current, result, now());
    setStatus(r.spec.checkId, status, result.output);
    if (r.stopped) return;
    // Until the first pass, probe quickly (Docker's start_interval idea) so an app is ready the moment it answers: the
    // wait between probes is a quarter of the time since the start (at least 100 ms, at most 1 s or the interval), so
    // the readiness it reports is never late by more than that share; then every interval.
    const delay = r.everPassed ? r.spec.health.interval : Math.min(r.spec.health.interval, 1000, Math.max(r.spec.relaxed?.() ? RELAXED_MS : 100, Math.round((now() - r.startedAt) / 4)));
    r.timer = setTimeout(() => void tick(r), delay);
  }

  /** Registers a check record on the bus (common to runner and TTL checks) and arms DeregisterCriticalServiceAfter. */
  function registerRecord(spec: Pick<CheckSpec, 'checkId' | 'serviceId' | 'serviceName' | 'node' | 'name' | 'initialStatus' | 'deregisterCriticalAfter'>, type: string, output: string, notes?: string): void {
    checker.remove(spec.checkId);
    if (spec.deregisterCriticalAfter) reapAfter.set(spec.checkId, { serviceId: spec.serviceId, after: spec.deregisterCriticalAfter });
    store.registerCheck({
      Node: spec.node,
      CheckID: spec.checkId,
      Name: spec.name ?? `Service '${spec.serviceName}' check`,
      Status: spec.initialStatus ?? 'critical',
      Output: output,
      ServiceID: spec.serviceId,
      ServiceName: spec.serviceName,
      Type: type,
      ...(notes ? { Notes: notes } : {}),
    });
    trackCritical(spec.checkId, spec.initialStatus ?? 'critical');
  }

  const checker: HealthChecker = {
    add(spec) {
      registerRecord(spec, spec.health.kind, `waiting for the first ${describe(spec.health, spec.address, spec.port)}`);
      const r: Running = { spec, startedAt: now(), timer: undefined, successes: 0, failures: 0, everPassed: false, stopped: false, failedProbes: 0, inFlight: false, startEnded: false };
      running.set(spec.checkId, r);
      r.timer = setTimeout(() => void tick(r), Math.min(50, spec.health.interval));
    },
    addTtl(spec) {
      registerRecord(spec, 'ttl', '', spec.notes);
      const t: Ttl = { spec, timer: undefined };
      ttls.set(spec.checkId, t);
      armTtl(t);
    },
    updateTtl(checkId, status, output) {
      const t = ttls.get(checkId);
      if (!t) return false;
      setStatus(checkId, status, output);
      armTtl(t);
      return true;
    },
    remove(checkId) {
      reapAfter.delete(checkId);
      criticalSince.delete(checkId);
      const t = ttls.get(checkId);
      if (t) {
        if (t.timer) clearTimeout(t.timer);
        ttls.delete(checkId);
        store.deregisterCheck(checkId);
      }
      const r = running.get(checkId);
      if (!r) return;
      r.stopped = true;
      if (r.timer) clearTimeout(r.timer);
      running.delete(checkId);
      store.deregisterCheck(checkId);
    },
    probeNow(checkId) {
      const r = running.get(checkId);
      if (!r || r.stopped || r.inFlight) return;
      if (r.timer) clearTimeout(r.timer);
      r.timer = setTimeout(() => void tick(r), 0);
    },
    endStart(checkId) {
      const r = running.get(checkId);
      if (r) r.startEnded = true;
    },
    halt(checkId, output) {
      const t = ttls.get(checkId);
      if (t) {
        if (t.timer) clearTimeout(t.timer);
        ttls.delete(checkId);
      }
      const r = running.get(checkId);
      if (r) {
        r.stopped = true;
        if (r.timer) clearTimeout(r.timer);
        running.delete(checkId);
      }
      store.updateCheck(checkId, 'critical', output);
    },
    isStarting(checkId) {
      const r = running.get(checkId);
      if (!r || r.everPassed || r.startEnded) return false;
      // Quick early probes must not make a slow starter look failed: until its first pass it is starting for the start
      // period, or as long as failure_threshold probes at the normal interval would take, and never less than
      // MIN_STARTING_MS (a node app on a loaded machine can take a few seconds to listen).
      const h = r.spec.health;
      return now() - r.startedAt < Math.max(h.startPeriod, h.failureThreshold * h.interval, MIN_STARTING_MS) || r.failedProbes < h.failureThreshold;
    },
    close() {
      for (const id of [...running.keys(), ...ttls.keys()]) this.remove(id);
      if (reaper) clearInterval(reaper);
      reaper = undefined;
    },
  };
  return checker;
}
