// `machineroom __daemon`: the background daemon started by `up -d` (internal; not for people to type).
import { writeFileSync } from 'node:fs';
import { MachineroomError, EXIT_FAILURE, EXIT_OK } from '../errors/index.js';
import { statePaths } from '../state/index.js';
import type { MachineMode, ResolvedBus, ResolvedConfig, ResolvedFrontDoor } from '../config/index.js';
import type { Verb } from './args.js';
import { flag, str } from './args.js';
import { apiPortOf } from './project.js';

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

/** The whole of stdin as JSON; undefined when it is empty or not JSON (`up` found no usable config). */
async function readStdinJson<T>(): Promise<T | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  } catch {
    return undefined;
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
    'config-stdin': { type: 'boolean', description: 'read the resolved config (JSON) from stdin and apply it once up' },
  },
  async run(args) {
    const dir = str(args, 'dir');
    if (!dir) throw new MachineroomError('ERR_USAGE', '__daemon needs --dir');
    const paths = statePaths(dir);
    // With --config-stdin the settings come from the config `up` pipes in (it spawns the daemon before it has loaded
    // the config, so both boot at once); loading the daemon's modules overlaps the wait.
    const [config, { startDaemon }] = await Promise.all([flag(args, 'config-stdin') ? readStdinJson<ResolvedConfig>() : undefined, import('../daemon/index.js')]);
    if (flag(args, 'config-stdin') && !config) return EXIT_OK; // `up` found no usable config: nothing to start
    const name = config?.name ?? str(args, 'name');
    if (!name) throw new MachineroomError('ERR_USAGE', '__daemon needs --name or --config-stdin');
    let daemon;
    try {
      daemon = await startDaemon({
        projectDir: dir,
        project: name,
        machineMode: config?.machineMode ?? ((str(args, 'mode') ?? 'loopback') as MachineMode),
        apiPort: config ? apiPortOf(config) : Number(str(args, 'api-port') ?? 8500),
        bus: config?.bus ?? busSettings(str(args, 'bus')),
        frontDoor: config?.frontDoor ?? frontDoorSettings(str(args, 'front-door')),
        attached: false,
      });
    } catch (err) {
      const e = err instanceof MachineroomError ? err : new MachineroomError('ERR_INTERNAL', (err as Error).message);
      writeFileSync(`${paths.dir}/daemon-error.json`, JSON.stringify({ code: e.code, message: e.message }));
      throw e;
    }
    if (config) await daemon.room.apply(config).catch((err: unknown) => process.stderr.write(`applying the config from up: ${(err as Error).message}\n`));
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
