// The daemon: boot and wiring, the control API, its client, the watchdog and leftover sweeps.
export type { Daemon, DaemonOptions } from './daemon.js';
export { startDaemon } from './daemon.js';
export { createControlApi } from './control-api.js';
export type { ControlApiOptions, ControlRoute } from './control-api.js';
export { checkOrigin, isLoopbackHostname } from '../http/index.js';
export type { Handler } from '../http/index.js';
export { sweepLeftovers } from './sweep.js';
export type { SweepResult } from './sweep.js';
export type { Bus } from './start-bus.js';
export { startBus } from './start-bus.js';
export { bindApiPort, bindPort, createApiServer } from './listen.js';
export { serveHandler } from '../http/index.js';
export { removeRelocatedHomes } from './postgres-home.js';
