// The daemon: boot and wiring, the control API, its client, the watchdog and leftover sweeps.
export type { Daemon, DaemonOptions } from './daemon.js';
export { startDaemon } from './daemon.js';
export type { MachineRoom, DaemonInfo, RoomStatus, ApplyResult, RunLease } from './machine-room.js';
export { createClient, connectToDaemon } from './client.js';
export { createControlApi, checkOrigin, isLoopbackHostname, TOKEN_HEADER, VERSION_HEADER } from './control-api.js';
export type { Handler } from '../http/index.js';
export { sweepLeftovers } from './sweep.js';
export type { SweepResult } from './sweep.js';
export { VERSION } from './version.js';
export type { Bus } from './start-bus.js';
export { startBus } from './start-bus.js';
export { bindApiPort, bindPort, createApiServer } from './listen.js';
export { serveHandler } from '../http/index.js';
