// Runs every instance's readiness check on its interval and writes each result to the bus store.
import type { BusStore, CheckStatus } from '../bus/index.js';
import type { ResolvedHealth } from '../config/index.js';
import { probeCmd, probeHttp, probeTcp } from './probes.js';
import type { ProbeResult } from './probes.js';

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
}

/** Schedules checks; close() stops them all. */
export interface HealthChecker {
  add(spec: CheckSpec): void;
  remove(checkId: string): void;
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
  attempts: number;
  failedProbes: number;
}

function describe(h: ResolvedHealth, address: string, port: number | undefined): string {
  switch (h.kind) {
    case 'http':
      return `HTTP GET http://${address}:${port}${h.path}`;
    case 'tcp':
      return `TCP ${address}:${port}`;
    case 'cmd':
    default:
      return `cmd ${(h.command ?? []).join(' ')}`;
  }
}

function runProbe(spec: CheckSpec): Promise<ProbeResult> {
  const h = spec.health;
  switch (h.kind) {
    case 'http':
      return probeHttp(`http://${spec.address}:${spec.port}${h.path ?? '/'}`, h.timeout);
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
  const inStartPeriod = !r.everPassed && now - r.startedAt < h.startPeriod;
  if (inStartPeriod) return current;
  r.failures += 1;
  if (current !== 'passing' || r.failures >= h.failureThreshold) return result.status;
  return current;
}

/** Creates a checker writing to `store`. */
export function createHealthChecker(store: BusStore, now: () => number = Date.now): HealthChecker {
  const running = new Map<string, Running>();

  async function tick(r: Running): Promise<void> {
    if (r.stopped) return;
    const result = await runProbe(r.spec);
    if (r.stopped) return;
    const current = store.check(r.spec.checkId)?.Status ?? 'critical';
    const status = nextStatus(r, current, result, now());
    store.updateCheck(r.spec.checkId, status, result.output);
    if (r.stopped) return;
    // Until the first pass, probe quickly (Docker's start_interval idea) so a fast app is ready fast; then every interval.
    r.attempts += 1;
    const delay = r.everPassed ? r.spec.health.interval : Math.min(r.spec.health.interval, Math.round(50 * 1.3 ** r.attempts), 1000);
    r.timer = setTimeout(() => void tick(r), delay);
  }

  return {
    add(spec) {
      this.remove(spec.checkId);
      store.registerCheck({
        Node: spec.node,
        CheckID: spec.checkId,
        Name: `Service '${spec.serviceName}' check`,
        Status: 'critical',
        Output: `waiting for the first ${describe(spec.health, spec.address, spec.port)}`,
        ServiceID: spec.serviceId,
        ServiceName: spec.serviceName,
        Type: spec.health.kind,
      });
      const r: Running = { spec, startedAt: now(), timer: undefined, successes: 0, failures: 0, everPassed: false, stopped: false, attempts: 0, failedProbes: 0 };
      running.set(spec.checkId, r);
      r.timer = setTimeout(() => void tick(r), Math.min(50, spec.health.interval));
    },
    remove(checkId) {
      const r = running.get(checkId);
      if (!r) return;
      r.stopped = true;
      if (r.timer) clearTimeout(r.timer);
      running.delete(checkId);
      store.deregisterCheck(checkId);
    },
    isStarting(checkId) {
      const r = running.get(checkId);
      if (!r || r.everPassed) return false;
      // Quick early probes must not make a slow starter look failed: it is starting until the start period, or as long
      // as failure_threshold probes at the normal interval would take, has passed.
      const h = r.spec.health;
      return now() - r.startedAt < Math.max(h.startPeriod, h.failureThreshold * h.interval) || r.failedProbes < h.failureThreshold;
    },
    close() {
      for (const id of [...running.keys()]) this.remove(id);
    },
  };
}
