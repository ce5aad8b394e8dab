// `scale`, `restart`, `stop`, `start`: thin calls to the running daemon.
import { MachineroomError, EXIT_OK } from '../errors/index.js';
import type { Verb } from './args.js';
import { requireDaemon } from './project.js';

const say = (s: string) => process.stdout.write(s + '\n');
const anyVersion = { 'any-version': { type: 'boolean' as const, description: 'talk to a daemon of another version' } };

function needOne(args: { positionals: string[] }, verb: string, what: string): string {
  const [first, ...more] = args.positionals;
  if (!first || more.length) throw new MachineroomError('ERR_USAGE', `machineroom ${verb} takes exactly one ${what}; see machineroom ${verb} --help`);
  return first;
}

/** `scale` */
export const scaleVerb: Verb = {
  name: 'scale',
  summary: 'Set the number of instances of services; stays in force until `down` or until replicas: changes in the file.',
  usage: 'scale SERVICE=N [SERVICE=N ...]',
  description: 'Scaling down stops the highest-numbered instances first; the others are not touched.',
  options: anyVersion,
  async run(args) {
    if (args.positionals.length === 0) throw new MachineroomError('ERR_USAGE', 'machineroom scale needs SERVICE=N, e.g. machineroom scale alpha=3');
    const changes: Record<string, number> = {};
    for (const p of args.positionals) {
      const m = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(p);
      if (!m) throw new MachineroomError('ERR_USAGE', `scale: expected SERVICE=N like alpha=3, got "${p}"`);
      changes[m[1]!] = Number(m[2]);
    }
    const { room } = await requireDaemon(args);
    await room.scale(changes);
    say(`scaled ${Object.entries(changes).map(([s, n]) => `${s} to ${n}`).join(', ')}; watch it with machineroom ps`);
    return EXIT_OK;
  },
};

/** `restart` */
export const restartVerb: Verb = {
  name: 'restart',
  summary: 'Restart every instance of a service, or one instance (SERVICE.N): stop with its signal and grace, then start.',
  usage: 'restart SERVICE[.N]',
  options: anyVersion,
  async run(args) {
    const target = needOne(args, 'restart', 'SERVICE or SERVICE.N');
    const { room } = await requireDaemon(args);
    const done = await room.restart(target);
    say(`restarted ${done.join(', ') || '(no instances)'}`);
    return EXIT_OK;
  },
};

/** `stop` */
export const stopVerb: Verb = {
  name: 'stop',
  summary: "Stop a service's instances and keep them stopped until `start` (the rest of the project keeps running).",
  usage: 'stop SERVICE',
  options: anyVersion,
  async run(args) {
    const service = needOne(args, 'stop', 'SERVICE');
    const { room } = await requireDaemon(args);
    await room.stopService(service);
    say(`stopped ${service}`);
    return EXIT_OK;
  },
};

/** `start` */
export const startVerb: Verb = {
  name: 'start',
  summary: 'Start a stopped service again.',
  usage: 'start SERVICE',
  options: anyVersion,
  async run(args) {
    const service = needOne(args, 'start', 'SERVICE');
    const { room } = await requireDaemon(args);
    await room.startService(service);
    say(`starting ${service}; watch it with machineroom ps`);
    return EXIT_OK;
  },
};
