// `machineroom __daemon`: the background daemon started by `up -d` (internal; not for people to type).
import { writeFileSync } from 'node:fs';
import { MachineroomError, EXIT_FAILURE, EXIT_OK } from '../errors/index.js';
import { statePaths } from '../state/index.js';
import type { MachineMode, ResolvedBus, ResolvedFrontDoor } from '../config/index.js';
import type { Verb } from './args.js';
import { str } from './args.js';

function busSettings(json: string | undefined): ResolvedBus {
  const defaults: ResolvedBus = { datacenter: 'dc1', node: 'machineroom', domain: 'consul', dnsPort: 8600, recursors: [], enableScriptChecks: false };
  if (!json) return defaults;
  try {
    return { ...defaults, ...(JSON.parse(json) as Partial<ResolvedBus>) };
  } catch {
    throw new MachineroomError('ERR_USAGE', `__daemon --bus: expected JSON, got ${json}`);
  }
}

function frontDoorSettings(json: string | undefined): ResolvedFrontDoor {
  const defaults: ResolvedFrontDoor = { httpPort: 8080, httpsPort: 8443, workers: 'auto', balancer: 'least-conn', drainTimeout: 30_000, accessLog: false };
  if (!json) return defaults;
  try {
    return { ...defaults, ...(JSON.parse(json) as Partial<ResolvedFrontDoor>) };
  } catch {
    throw new MachineroomError('ERR_USAGE', `__daemon --front-door: expected JSON, got ${json}`);
  }
}

/** `__daemon` */
export const daemonVerb: Verb = {
  name: '__daemon',
  summary: 'Run the daemon in the foreground without a terminal (used by `up -d`).',
  usage: '__daemon --dir DIR --name NAME --mode loopback|port --api-port PORT',
  hidden: true,
  options: {
    dir: { type: 'string', description: 'project directory' },
    name: { type: 'string', description: 'project name' },
    mode: { type: 'string', description: 'machine mode' },
    'api-port': { type: 'string', description: 'preferred API port' },
    bus: { type: 'string', description: 'the bus settings, as JSON' },
    'front-door': { type: 'string', description: 'the front door settings, as JSON' },
  },
  async run(args) {
    const dir = str(args, 'dir');
    const name = str(args, 'name');
    if (!dir || !name) throw new MachineroomError('ERR_USAGE', '__daemon needs --dir and --name');
    const paths = statePaths(dir);
    let daemon;
    try {
      const { startDaemon } = await import('../daemon/index.js');
      daemon = await startDaemon({ projectDir: dir, project: name, machineMode: (str(args, 'mode') ?? 'loopback') as MachineMode, apiPort: Number(str(args, 'api-port') ?? 8500), bus: busSettings(str(args, 'bus')), frontDoor: frontDoorSettings(str(args, 'front-door')), attached: false });
    } catch (err) {
      const e = err instanceof MachineroomError ? err : new MachineroomError('ERR_INTERNAL', (err as Error).message);
      writeFileSync(`${paths.dir}/daemon-error.json`, JSON.stringify({ code: e.code, message: e.message }));
      throw e;
    }
    let signals = 0;
    const onSignal = () => {
      signals += 1;
      if (signals === 1) void daemon.shutdown();
      else void daemon.kill();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    await daemon.stopped;
    return signals > 1 ? EXIT_FAILURE : EXIT_OK;
  },
};
