// Health checks: http, tcp and cmd readiness checks written to the bus (ttl comes with the bus issue).
export type { ProbeResult, HttpProbeOptions } from './probes.js';
export { probeHttp, probeTcp, probeCmd } from './probes.js';
export type { CheckSpec, TtlCheckSpec, HealthChecker } from './checker.js';
export { createHealthChecker } from './checker.js';
