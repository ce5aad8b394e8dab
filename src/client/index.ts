// The client side of the machine room: the interface the daemon implements, its HTTP client, the wire conventions,
// the status types and predicates, and a client of the bus's Consul API. Light on purpose: every CLI command loads it.
export type { MachineRoom, DaemonInfo, RoomStatus, ApplyResult, RunLease, Traffic, InstanceTraffic, DatabaseAction, DatabaseInfo } from './machine-room.js';
export { createClient, connectToDaemon } from './client.js';
export { TOKEN_HEADER, VERSION_HEADER } from './protocol.js';
export { PACKAGE_ROOT, VERSION } from './version.js';
export type { ProcessState, HealthState, ExitInfo, InstanceStatus, InstanceCheck, ServiceStatus, PostgresStatus } from './status.js';
export { isReady, isSettled, isFailing } from './status.js';
export type { BusHttpClient, KvWireEntry, Indexed } from './bus-client.js';
export { createBusHttpClient } from './bus-client.js';
export { isSecretKey } from './secret-keys.js';
export { dashboardLoginUrl } from './dashboard-url.js';
