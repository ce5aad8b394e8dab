// `machineroom down`: stop everything (dependents first, with visible progress), and sweep anything a dead daemon left.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { EXIT_OK } from '../errors/index.js';
import { connectToDaemon } from '../client/index.js';
import { isSameProcess } from '../proc/index.js';
import { projectIdOf, readJsonFile } from '../state/index.js';
import type { DaemonRecord } from '../state/index.js';
import type { Verb } from './args.js';
import { flag } from './args.js';
import { projectPaths } from './project.js';
import { humanDuration, paint, useColor } from './output.js';

const say = (s: string) => process.stdout.write(s + '\n');

/** `down` */
export const downVerb: Verb = {
  name: 'down',
  summary: 'Stop every instance (SIGTERM, grace period, then SIGKILL) and the daemon; sweep leftovers of a crashed daemon.',
  usage: 'down [--volumes]',
  options: {
    volumes: { type: 'boolean', description: "also delete the project's data: .machineroom/data (databases and the KV store)" },
    'any-version': { type: 'boolean', description: 'stop a daemon of another machineroom version' },
  },
  async run(args) {
    const color = useColor();
    const paths = projectPaths(args);
    const began = Date.now();
    const found = await connectToDaemon(paths, { anyVersion: flag(args, 'any-version') });
    if (found) {
      const { room, record } = found;
      say(`stopping ${record.project} (daemon pid ${record.pid})…`);
      const abort = new AbortController();
      // Instances still inside their grace period, so the wait is visible: "waiting for web.1 (3s)".
      const pending = new Map<string, number>();
      const follow = (async () => {
        try {
          for await (const e of room.events({ follow: true }, abort.signal)) {
            if (e.ts < began) continue;
            if (e.type === 'stopping' && e.instance) pending.set(e.instance, e.ts);
            if (e.type === 'stopped' && e.instance) pending.delete(e.instance);
            if (e.type === 'stopping' || e.type === 'stopped') say(paint(`  ${e.message}`, e.type === 'stopped' ? 'green' : 'gray', color));
          }
        } catch {
          /* the daemon closed the stream as it exited */
        }
      })();
      const ticker = setInterval(() => {
        const slow = [...pending].filter(([, t]) => Date.now() - t >= 1000);
        if (slow.length) say(paint(`  waiting for ${slow.map(([name, t]) => `${name} (${humanDuration(Date.now() - t)})`).join(', ')}`, 'yellow', color));
      }, 1000);
      await room.shutdown();
      while (isSameProcess(record.pid, record.startTime)) await new Promise((r) => setTimeout(r, 50));
      clearInterval(ticker);
      abort.abort();
      await follow;
      say(`${paint('✔', 'green', color)} ${record.project} stopped in ${humanDuration(Date.now() - began)}`);
    }
    // Whatever a dead daemon left behind (recorded pids with their start times, and processes carrying the project id).
    const rec = readJsonFile<DaemonRecord>(paths.daemon);
    const projectId = rec?.projectId ?? projectIdOf(dirname(paths.dir).split('/').pop()!.toLowerCase().replace(/[^a-z0-9-]/g, '-'), dirname(paths.dir));
    const { sweepLeftovers, removeRelocatedHomes } = await import('../daemon/index.js');
    const swept = await sweepLeftovers(paths, projectId, process.getuid?.() === 0 ? `machineroom-${projectId}` : undefined);
    if (swept.found > 0) say(`stopped ${swept.found} leftover processes of an earlier daemon${swept.killed ? ` (${swept.killed} needed SIGKILL)` : ''}`);
    else if (!found) say('nothing to stop: the project is not up');
    rmSync(paths.daemon, { force: true });
    if (flag(args, 'volumes')) {
      for (const home of removeRelocatedHomes(paths.data)) say(`removed ${home}`);
      rmSync(paths.data, { recursive: true, force: true });
      say(`removed ${paths.data}`);
    }
    return EXIT_OK;
  },
};
