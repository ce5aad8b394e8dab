// Wraps an argv so that it runs as an unprivileged user after the root-only steps before it (joining a cgroup).

/** `setpriv` (util-linux) switches uid, gid and drops supplementary groups, then execs argv: same pid, no shell. */
export function dropPrivileges(user: { uid: number; gid: number }, argv: readonly string[]): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...argv];
}
