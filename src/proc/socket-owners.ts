// Joins listening sockets to the processes holding them, to report who owns a port and which ports an instance opened.
import { canonicalizeAddress } from './ip-address.js';
import { readCmdline } from './cmdline.js';
import { listPids } from './list-pids.js';
import { readProcessStat } from './process-stat.js';
import { readProcDir, readProcLink } from './read-proc-file.js';
import type { ListeningSocket, SocketFamily } from './tcp-table.js';
import { listListeningSockets } from './tcp-table.js';

/** A listening socket attributed to one process (a socket shared after fork is reported once per holder). */
export interface ProcessListener {
  readonly pid: number;
  readonly family: SocketFamily;
  readonly address: string;
  readonly port: number;
  readonly inode: number;
  readonly isWildcard: boolean;
}

/** The process found listening on a port. */
export interface PortHolder {
  readonly pid: number;
  readonly comm: string;
  /** Its argv; [] if it could not be read. */
  readonly cmdline: string[];
}

/** The inodes of the sockets a process holds open (from /proc/<pid>/fd); empty when gone or not permitted. */
export function socketInodesOf(pid: number): Set<number> {
  const inodes = new Set<number>();
  if (!Number.isSafeInteger(pid) || pid <= 0) return inodes;
  const dir = `/proc/${pid}/fd`;
  for (const fd of readProcDir(dir) ?? []) {
    const target = readProcLink(`${dir}/${fd}`);
    const match = target === undefined ? null : /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1]) inodes.add(Number(match[1]));
  }
  return inodes;
}

// Tables read with maxAgeMs, by network namespace: reading one walks every bucket of the kernel's TCP hash (milliseconds
// on a machine with much memory), and several instances watched at once would each read the same table.
const recentTables = new Map<string, { at: number; table: Map<number, ListeningSocket> }>();

/**
 * The TCP sockets each of `pids` is listening on, reading each network namespace's table once
 * (so it also works for processes in another netns). Processes that are gone or unreadable contribute nothing.
 * `maxAgeMs`: a table read that recently (by any caller that also passed maxAgeMs) is used again.
 */
export function listeningSocketsOf(pids: readonly number[], opts: { maxAgeMs?: number } = {}): ProcessListener[] {
  const ownNamespace = readProcLink('/proc/self/ns/net');
  const tables = new Map<string, Map<number, ListeningSocket>>();
  const now = Date.now();
  const result: ProcessListener[] = [];
  for (const pid of pids) {
    const inodes = socketInodesOf(pid);
    if (inodes.size === 0) continue;
    const namespace = readProcLink(`/proc/${pid}/ns/net`) ?? ownNamespace ?? 'self';
    let table = tables.get(namespace);
    if (table === undefined && opts.maxAgeMs !== undefined) {
      const recent = recentTables.get(namespace);
      if (recent && now - recent.at <= opts.maxAgeMs) table = recent.table;
    }
    if (table === undefined) {
      const sockets = namespace === ownNamespace || namespace === 'self' ? listListeningSockets() : listListeningSockets(pid);
      table = new Map(sockets.map((s) => [s.inode, s]));
      if (opts.maxAgeMs !== undefined) {
        if (recentTables.size > 64) recentTables.clear();
        recentTables.set(namespace, { at: now, table });
      }
    }
    tables.set(namespace, table);
    for (const inode of inodes) {
      const socket = table.get(inode);
      if (socket) result.push({ pid, ...socket });
    }
  }
  return result;
}

// 0 = bound to exactly the address asked about, 1 = a wildcard socket that also covers it.
function matchRank(socket: ListeningSocket, wanted: string | undefined): number | undefined {
  if (wanted === undefined) return 0;
  const have = canonicalizeAddress(socket.address);
  if (have === wanted) return 0;
  const wantedIsIPv4 = !wanted.includes(':');
  if (have === '0.0.0.0' && wantedIsIPv4) return 1;
  if (have === '::') return 1; // Linux defaults to dual-stack (bindv6only=0)
  return undefined;
}

/**
 * Which process listens on TCP `port` (optionally: on a socket that accepts `address`, exact binds preferred
 * over wildcards) in our network namespace. Undefined when nobody listens or the holder's fds are not readable
 * (another user's process, unless root). When a socket is shared after fork, the lowest pid is reported.
 */
export function findPortHolder(port: number, address?: string): PortHolder | undefined {
  const wanted = address === undefined ? undefined : canonicalizeAddress(address);
  if (address !== undefined && wanted === undefined) return undefined;
  const rankByInode = new Map<number, number>();
  for (const socket of listListeningSockets()) {
    if (socket.port !== port) continue;
    const rank = matchRank(socket, wanted);
    if (rank !== undefined) rankByInode.set(socket.inode, Math.min(rank, rankByInode.get(socket.inode) ?? rank));
  }
  if (rankByInode.size === 0) return undefined;
  let best: { pid: number; rank: number } | undefined;
  for (const pid of listPids()) {
    for (const inode of socketInodesOf(pid)) {
      const rank = rankByInode.get(inode);
      if (rank !== undefined && (best === undefined || rank < best.rank)) best = { pid, rank };
    }
    if (best?.rank === 0) break;
  }
  if (best === undefined) return undefined;
  const stat = readProcessStat(best.pid);
  if (stat === undefined) return undefined;
  return { pid: best.pid, comm: stat.comm, cmdline: readCmdline(best.pid) ?? [] };
}
