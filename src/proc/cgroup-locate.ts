// Finds the cgroup v2 hierarchy and our place in it, the prerequisite for containing an instance's whole process tree.
import { join, posix } from 'node:path';
import { readProcText } from './read-proc-file.js';

interface Cgroup2Mount {
  readonly mountPoint: string;
  /** The cgroup path mounted there ("/" unless a container mounted a subtree). */
  readonly root: string;
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo octal.
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function readCgroup2Mounts(): Cgroup2Mount[] {
  const text = readProcText('/proc/self/mountinfo') ?? '';
  const mounts: Cgroup2Mount[] = [];
  for (const line of text.split('\n')) {
    // "id parent major:minor root mountpoint options [optional...] - fstype source superoptions"
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const fstype = line.slice(separator + 3).split(' ')[0];
    if (fstype !== 'cgroup2') continue;
    const fields = line.slice(0, separator).split(' ');
    if (fields[3] === undefined || fields[4] === undefined) continue;
    mounts.push({ root: unescapeMountPath(fields[3]), mountPoint: unescapeMountPath(fields[4]) });
  }
  // Prefer a mount of the whole hierarchy over one of a subtree.
  return mounts.sort((a, b) => Number(b.root === '/') - Number(a.root === '/'));
}

/** Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified in a hybrid layout); undefined when absent. */
export function findCgroup2Mount(): string | undefined {
  return readCgroup2Mounts()[0]?.mountPoint;
}

/** Our own cgroup v2 path (the `0::/path` line of /proc/self/cgroup); undefined on cgroup-v1-only systems. */
export function ownCgroupPath(): string | undefined {
  const text = readProcText('/proc/self/cgroup') ?? '';
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) return line.slice(3);
  }
  return undefined;
}

/** The absolute directory of our own cgroup under the cgroup2 mount; undefined when it is not visible there. */
export function ownCgroupDir(): string | undefined {
  const path = ownCgroupPath();
  if (path === undefined) return undefined;
  for (const mount of readCgroup2Mounts()) {
    const relative = posix.relative(mount.root, path);
    if (relative === '' || (!relative.startsWith('..') && !posix.isAbsolute(relative))) return join(mount.mountPoint, relative);
  }
  return undefined;
}
