// The supervisor: instances as real processes on their own machines, restarts, logs and events.
export type { Launch, Supervisor, SupervisorDeps } from './supervisor.js';
export { createSupervisor } from './supervisor.js';
export type { LogHub, LogLine, LogFilter } from './log-hub.js';
export { createLogHub, matchesTargets } from './log-hub.js';
export type { EventLog, MachineroomEvent, EventType } from './event-log.js';
export { createEventLog, readEventFile } from './event-log.js';
export { instanceEnv, portVarName } from './instance-env.js';
export type { ProcessTree } from './process-group.js';
export { killTree, signalGroup, treePids, waitTreeEmpty } from './process-group.js';
