// PostgreSQL resources, the engine layer: locate binaries (embedded npm package or the system's), make and check
// clusters, the foreground server command, readiness, provisioning, health probes, credentials and snapshots.
export type { ManagedEngineKind, PgUser, PgEngine, PgConn, DatabaseSpec, ProvisionResult } from './types.js';
export { serverUser, SERVER_USER_NAME } from './server-user.js';
export type { LocateEngineOptions } from './locate-engine.js';
export { locateEngine } from './locate-engine.js';
export { embeddedPackageName } from './embedded-engine.js';
export { defaultSystemDirs } from './system-engine.js';
export type { EnsureClusterOptions, EnsureClusterResult } from './ensure-cluster.js';
export { ensureCluster, SUPERUSER } from './ensure-cluster.js';
export { readPostmasterPid, isLivePostgres } from './postmaster-pid.js';
export type { ServerCommandOptions } from './server-command.js';
export { serverCommand } from './server-command.js';
export { connectWhenReady, waitPostmaster, waitReady, isStartingUpError } from './wait-ready.js';
export { clearProvisionStamp, provisionStamp, readProvisionStamp, writeProvisionStamp } from './provision-stamp.js';
export { closeClient } from './connect.js';
export { provision } from './provision.js';
export { probePostgres } from './probe.js';
export { loadCredentials, generatePassword } from './credentials.js';
export { snapshotDataDir, restoreDataDir } from './snapshot.js';
export { postgresUrl } from './postgres-url.js';
export { quoteIdent, quoteLiteral } from './quote.js';
export { blockingDirectory } from './path-access.js';
export { warmUp } from './connect.js';
