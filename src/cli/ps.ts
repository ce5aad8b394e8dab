// `machineroom ps`: every instance with state, health, version, restarts, last exit, uptime and address.
import { EXIT_OK } from '../errors/index.js';
import type { InstanceStatus } from '../client/index.js';
import type { Verb } from './args.js';
import { flag } from './args.js';
import { requireDaemon } from './project.js';
import { humanDuration, paint, serviceColor, table, useColor } from './output.js';

function stateCell(i: InstanceStatus, color: boolean): string {
  const style = i.state === 'running' ? 'green' : i.state === 'crashloop' || i.state === 'failed' || (i.state === 'exited' && i.lastExit?.code !== 0) ? 'red' : 'yellow';
  return paint(i.state, style, color);
}

function healthCell(i: InstanceStatus, color: boolean): string {
  if (i.health === 'none') return paint('-', 'gray', color);
  const style = i.health === 'passing' ? 'green' : i.health === 'critical' ? 'red' : 'yellow';
  return paint(i.health, style, color);
}

/** `ps` */
export const psVerb: Verb = {
  name: 'ps',
  summary: 'List every instance (state, health, version, restarts, last exit, uptime, machine address) and each service\'s address.',
  usage: 'ps [--json]',
  options: { json: { type: 'boolean', description: 'print the full status as JSON' }, 'any-version': { type: 'boolean', description: 'talk to a daemon of another version' } },
  async run(args) {
    const { room } = await requireDaemon(args);
    const status = await room.status();
    if (flag(args, 'json')) {
      process.stdout.write(JSON.stringify(status, null, 2) + '\n');
      return EXIT_OK;
    }
    const color = useColor();
    const rows = status.instances.map((i) => {
      const port = Object.values(i.ports)[0];
      const exit = i.lastExit ? (i.lastExit.signal ?? String(i.lastExit.code)) : '-';
      return [
        paint(i.name, serviceColor(i.service), color),
        stateCell(i, color),
        healthCell(i, color),
        i.version,
        String(i.restarts),
        exit,
        i.startedAt ? humanDuration(Date.now() - i.startedAt) : '-',
        i.address ? `${i.address}${port ? `:${port}` : ''}` : '-',
        i.pid ? String(i.pid) : '-',
        i.warning ? paint(i.warning, 'yellow', color) : i.health === 'critical' && i.healthOutput ? paint(i.healthOutput.slice(0, 80), 'gray', color) : '',
      ];
    });
    process.stdout.write(table(['NAME', 'STATE', 'HEALTH', 'VERSION', 'RESTARTS', 'LAST EXIT', 'UPTIME', 'ADDRESS', 'PID', 'NOTE'], rows, color) + '\n');
    if (status.instances.length === 0) process.stdout.write(paint('(no instances)\n', 'gray', color));
    // Where each service is reached: its own address (served by the front door) and its front-door URL.
    const reached = status.services.filter((s) => s.address);
    if (reached.length > 0) {
      process.stdout.write('\n');
      const front = status.info.frontDoorUrl;
      const rows2 = reached.map((s) => [paint(s.name, serviceColor(s.name), color), s.address!, front && !s.address!.startsWith('tcp://') ? `${front.replace('//localhost', `//${s.name}.localhost`)}/` : '-']);
      process.stdout.write(table(['SERVICE', 'SERVICE ADDRESS', 'FRONT DOOR'], rows2, color) + '\n');
    }
    return EXIT_OK;
  },
};
