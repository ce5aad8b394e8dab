// `exec` (a command on a running instance's machine, with its environment) and `run` (a one-off process of a service).
import { spawn } from 'node:child_process';
import { MachineroomError } from '../errors/index.js';
import type { Verb, VerbArgs } from './args.js';
import { loadProjectConfig, requireDaemon, projectPaths } from './project.js';
import { connectToDaemon } from '../client/index.js';
import { projectIdOf } from '../state/index.js';

function runChild(argv: string[], env: Record<string, string>, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const [file, ...rest] = argv;
    if (!file) return reject(new MachineroomError('ERR_USAGE', 'no command given after "--"'));
    const child = spawn(file, rest, { env, cwd, stdio: 'inherit' });
    // The terminal's Ctrl-C reaches the child (same process group); we just wait for it.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    child.once('error', (err) => {
      process.off('SIGINT', ignore);
      reject(new MachineroomError('ERR_USAGE', `cannot run ${file}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 9) : 1));
    });
  });
}

function commandOf(args: VerbArgs, verb: string): string[] {
  if (args.rest.length === 0) throw new MachineroomError('ERR_USAGE', `machineroom ${verb} needs a command after "--", e.g. machineroom ${verb} ${verb === 'exec' ? 'alpha.1' : 'alpha'} -- env`);
  return args.rest;
}

/** `exec` */
export const execVerb: Verb = {
  name: 'exec',
  summary: "Run a command with a running instance's environment (HOST, PORT, MR_*, its env) in its working directory.",
  usage: 'exec SERVICE.N -- CMD [ARG...]',
  takesCommand: true,
  options: { 'any-version': { type: 'boolean', description: 'talk to a daemon of another version' } },
  async run(args) {
    const [target, ...more] = args.positionals;
    if (!target || more.length || !/\.\d+$/.test(target)) throw new MachineroomError('ERR_USAGE', 'machineroom exec takes one instance, SERVICE.N (e.g. alpha.1), then -- and the command');
    const command = commandOf(args, 'exec');
    const { room } = await requireDaemon(args);
    const env = await room.instanceEnv(target);
    const svc = target.slice(0, target.lastIndexOf('.'));
    const config = await loadProjectConfig(args).catch(() => undefined);
    const cwd = config?.services[svc]?.cwd ?? process.cwd();
    return runChild(command, env, cwd);
  },
};

/** `run` */
export const runVerb: Verb = {
  name: 'run',
  summary: "Run a one-off process with a service's environment on a machine of its own (a migration, a console, a script).",
  usage: 'run SERVICE -- CMD [ARG...]',
  description: 'With the project up, the process gets a fresh machine (SERVICE-run-N) from the daemon; otherwise it runs on 127.0.0.1 with the configured ports.',
  takesCommand: true,
  options: { 'any-version': { type: 'boolean', description: 'talk to a daemon of another version' } },
  async run(args) {
    const [service, ...more] = args.positionals;
    if (!service || more.length) throw new MachineroomError('ERR_USAGE', 'machineroom run takes one SERVICE, then -- and the command');
    const command = commandOf(args, 'run');
    const found = await connectToDaemon(projectPaths(args), { anyVersion: args.values['any-version'] === true });
    if (found) {
      const lease = await found.room.runLease(service);
      try {
        return await runChild(command, lease.env, lease.cwd);
      } finally {
        await found.room.releaseRun(lease.runId).catch(() => undefined);
      }
    }
    const config = await loadProjectConfig(args);
    const spec = config.services[service];
    if (!spec) throw new MachineroomError('ERR_SERVICE_NOT_FOUND', `no service "${service}"; services: ${Object.keys(config.services).join(', ')}`);
    const projectId = projectIdOf(config.name, config.projectDir);
    const machine = { name: `${service}-run`, mode: 'port' as const, address: '127.0.0.1', ports: Object.fromEntries(spec.ports.map((p) => [p.name, p.port])), leaseKeys: [] };
    const { instanceEnv } = await import('../supervisor/index.js');
    const env = instanceEnv(spec, machine, { project: config.name, projectId, service, index: 0, instanceId: `${projectId}:${service}.run` });
    return runChild(command, env, spec.cwd);
  },
};
