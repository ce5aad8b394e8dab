// Linux /proc and cgroup v2 readers for the supervisor: who runs, who listens where, and how to contain and kill a process tree.
// Every reader tolerates processes vanishing mid-scan and missing permissions: those come back as undefined, [] or false.

export type { ProcStat } from './process-stat.js';
export { parseProcessStat, readProcessStat, processStartTime, isSameProcess, listProcessStats } from './process-stat.js';
export { listPids } from './list-pids.js';
export { readCmdline } from './cmdline.js';
export type { EnvMatch } from './environ.js';
export { readEnviron, findProcessesByEnv } from './environ.js';
export { descendantsOf, processesInGroup, processesInSession } from './process-tree.js';
export { canonicalizeAddress, formatIPv4, formatIPv6, isWildcardAddress } from './ip-address.js';
export type { ListeningSocket, SocketFamily } from './tcp-table.js';
export { decodeProcNetAddress, parseListeningSockets, listListeningSockets } from './tcp-table.js';
export type { PortHolder, ProcessListener } from './socket-owners.js';
export { socketInodesOf, listeningSocketsOf, findPortHolder } from './socket-owners.js';
export { findCgroup2Mount, ownCgroupPath, ownCgroupDir } from './cgroup-locate.js';
export { createCgroup, cgroupPids, removeCgroup } from './cgroup-manage.js';
export { killCgroup } from './cgroup-kill.js';
export { cgroupJoinCommand } from './cgroup-join.js';
export { clockTicksPerSecond, bootTimeMs, processStartedAtMs } from './clock.js';
