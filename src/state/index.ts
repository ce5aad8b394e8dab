// Project state (.machineroom/) and the machine-wide registry.
export { writeFileAtomic, readJsonFile } from './atomic-write.js';
export type { LockOwner, HeldLock } from './file-lock.js';
export { tryLock, isHeld, lockOwner, withFileLock } from './file-lock.js';
export type { StatePaths, DaemonRecord, InstanceRecord } from './project-state.js';
export {
  statePaths,
  ensureStateDir,
  projectIdOf,
  ensureToken,
  readToken,
  readLiveDaemon,
  writeDaemonRecord,
  writeInstanceRecords,
  readInstanceRecords,
} from './project-state.js';
export type { RegisteredProject, Lease, RegistryData } from './registry.js';
export { registryDir, withRegistry, projectHoldingPort } from './registry.js';
