// The watchdog: a small process that outlives a daemon killed by any means (even SIGKILL) and stops its instances.
// The daemon holds the write end of our stdin; when it dies, stdin ends and we sweep. It runs at the lowest CPU
// priority and loads the sweep only when it has to sweep: it starts next to the instances and should take nothing
// from them.

const [projectDir, projectId, cgroupRel] = process.argv.slice(2);
if (!projectDir || !projectId) {
  process.stderr.write('usage: watchdog PROJECT_DIR PROJECT_ID [CGROUP]\n');
  process.exit(2);
}
// Ctrl-C in the daemon's terminal and the daemon's own signals are not ours to act on.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);
let swept = false;
const sweep = async () => {
  if (swept) return;
  swept = true;
  try {
    const [{ statePaths }, { sweepLeftovers }] = await Promise.all([import('../state/index.js'), import('./sweep.js')]);
    await sweepLeftovers(statePaths(projectDir), projectId, cgroupRel || undefined, 2000);
  } catch {
    /* nothing more to do */
  }
  process.exit(0);
};
// A daemon that shut down cleanly says so before it closes the pipe: everything is stopped already (and `down` sweeps
// on its own), so a sweep here is work for nothing that races the next daemon of the same project (same MR_PROJECT_ID,
// same cgroup).
let cleanExit = false;
process.stdin.on('data', (chunk: Buffer) => {
  if (chunk.toString('utf8').includes('exit')) cleanExit = true;
});
process.stdin.on('end', () => (cleanExit ? process.exit(0) : void sweep()));
process.stdin.on('close', () => (cleanExit ? process.exit(0) : void sweep()));
process.stdin.on('error', () => void sweep());
