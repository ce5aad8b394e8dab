// Builds the argv that puts a command in its cgroup before it runs, so nothing it forks can start outside the cgroup.

/**
 * Wraps `argv` so that /bin/sh writes its own pid into `dir`/cgroup.procs, then execs `argv` (same pid, now in the
 * cgroup). In `sh -c script arg0 args...`, `$0` is `dir` and `"$@"` is `argv`, so neither is ever re-parsed by the
 * shell. If the write fails the command does not run (sh exits non-zero) rather than running uncontained.
 */
export function cgroupJoinCommand(dir: string, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new TypeError('cgroupJoinCommand: argv must name a command, got []');
  return ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv];
}
