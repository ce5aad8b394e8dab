// `machineroom events`: the supervisor's event stream (started, healthy, exited, restarting, crash loop, scaled…).
import { EXIT_OK } from '../errors/index.js';
import type { MachineroomEvent } from '../supervisor/index.js';
import { connectToDaemon } from '../client/index.js';
import type { Verb } from './args.js';
import { flag } from './args.js';
import { projectPaths } from './project.js';
import { paint, useColor } from './output.js';

/** `events` */
export const eventsVerb: Verb = {
  name: 'events',
  summary: 'Show the event stream: registrations, health changes, exits, restarts, scaling.',
  usage: 'events [-f] [--json]',
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new events (Ctrl-C stops following; the daemon keeps running)' },
    json: { type: 'boolean', description: 'one JSON object per line' },
    'any-version': { type: 'boolean', description: 'talk to a daemon of another version' },
  },
  async run(args) {
    const color = useColor();
    const json = flag(args, 'json');
    const print = (e: MachineroomEvent) => {
      if (json) return void process.stdout.write(JSON.stringify(e) + '\n');
      const style = e.level === 'error' ? 'red' : e.level === 'warn' ? 'yellow' : 'gray';
      process.stdout.write(`${paint(new Date(e.ts).toISOString(), 'gray', color)} ${paint(e.type.padEnd(10), style, color)} ${e.message}\n`);
    };
    const paths = projectPaths(args);
    const found = await connectToDaemon(paths, { anyVersion: flag(args, 'any-version') });
    if (!found) {
      const { readEventFile } = await import('../supervisor/index.js');
      for (const e of readEventFile(paths.events)) print(e);
      return EXIT_OK;
    }
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    try {
      for await (const e of found.room.events({ follow: flag(args, 'follow') }, abort.signal)) print(e);
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      process.off('SIGINT', stop);
    }
    return EXIT_OK;
  },
};
