// Machines: every instance's own address (loopback) or own port (port mode); netns comes in a later issue.
export type { Machine } from './machine.js';
export { primaryPort, defaultMachineMode } from './machine.js';
export type { MachinePool, MachinePoolOptions } from './pool.js';
export { createMachinePool } from './pool.js';
