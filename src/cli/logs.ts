// `machineroom logs`: instances' output, interleaved in time order; -f follows (Ctrl-C leaves the daemon running).
import { MachineroomError, EXIT_OK } from '../errors/index.js';
import type { LogLine } from '../supervisor/index.js';
import { connectToDaemon } from '../client/index.js';
import type { Verb } from './args.js';
import { flag, intOption, str } from './args.js';
import { projectPaths } from './project.js';
import { formatLogLine, useColor } from './output.js';

async function parseSince(text: string): Promise<number> {
  const { parseDuration } = await import('../config/index.js');
  const ms = parseDuration(text);
  if (ms !== undefined) return Date.now() - ms;
  const t = Date.parse(text);
  if (!Number.isNaN(t)) return t;
  throw new MachineroomError('ERR_USAGE', `--since: expected a duration like "10m" or a timestamp like 2026-01-02T15:04:05Z, got "${text}"`);
}

/** `logs` */
export const logsVerb: Verb = {
  name: 'logs',
  summary: "Show instances' output (stdout `|`, stderr `!`), with the daemon's events, in time order.",
  usage: 'logs [-f] [--tail N] [--since DUR] [--timestamps] [SERVICE|SERVICE.N ...]',
  description: 'Works after `down` too: logs stay in .machineroom/logs until the next `up`.',
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new lines (Ctrl-C stops following; the daemon keeps running)' },
    tail: { type: 'string', short: 'n', value: 'N', description: 'only the last N lines (per request, across the selected sources)' },
    since: { type: 'string', value: 'DUR', description: 'only lines newer than this: a duration like 10m, or a timestamp' },
    timestamps: { type: 'boolean', short: 't', description: 'prefix each line with its time' },
    'no-events': { type: 'boolean', description: "leave out the daemon's own event lines" },
    'any-version': { type: 'boolean', description: 'talk to a daemon of another version' },
  },
  async run(args) {
    const tail = intOption(args, 'tail');
    const sinceText = str(args, 'since');
    const since = sinceText ? await parseSince(sinceText) : undefined;
    const targets = args.positionals;
    const color = useColor();
    const timestamps = flag(args, 'timestamps');
    const events = !flag(args, 'no-events');
    const width = Math.max(12, ...targets.map((t) => t.length + 2));
    const print = (l: LogLine) => {
      if (!events && l.source === 'machineroom') return;
      process.stdout.write(formatLogLine(l, { width, timestamps, color }) + '\n');
    };
    const paths = projectPaths(args);
    const found = await connectToDaemon(paths, { anyVersion: flag(args, 'any-version') });
    const filter = { targets, ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}) };
    if (!found) {
      if (flag(args, 'follow')) throw new MachineroomError('ERR_DAEMON_NOT_RUNNING', 'the project is not up, so there is nothing to follow; `machineroom up` starts it');
      const { createLogHub } = await import('../supervisor/index.js');
      const hub = createLogHub({ dir: paths.logs });
      for (const l of hub.read(filter)) print(l);
      await hub.close();
      return EXIT_OK;
    }
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    try {
      for await (const l of found.room.logs({ ...filter, follow: flag(args, 'follow') }, abort.signal)) print(l);
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      process.off('SIGINT', stop);
    }
    return EXIT_OK;
  },
};
