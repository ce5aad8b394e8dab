// The CLI entry: picks the verb, prints help, maps errors to messages and exit codes.
import { MachineroomError, EXIT_OK, EXIT_USAGE, exitCodeOf } from '../errors/index.js';
import { VERSION } from '../client/index.js';
import type { Verb } from './args.js';
import { helpText, parseVerbArgs } from './args.js';
import { upVerb } from './up.js';
import { downVerb } from './down.js';
import { psVerb } from './ps.js';
import { logsVerb } from './logs.js';
import { eventsVerb } from './events.js';
import { scaleVerb, restartVerb, stopVerb, startVerb } from './control-verbs.js';
import { execVerb, runVerb } from './exec-run.js';
import { configVerb } from './config-verb.js';
import { daemonVerb } from './daemon-verb.js';
import { kvVerb } from './kv.js';
import { agentVerb } from './agent.js';
import { servicesVerb, resolveVerb } from './services.js';
import { caVerb } from './ca.js';
import { dashboardVerb } from './dashboard.js';
import { dbVerb, psqlVerb } from './db.js';
import { paint, useColor } from './output.js';

const VERBS: Verb[] = [upVerb, downVerb, psVerb, logsVerb, eventsVerb, dashboardVerb, scaleVerb, restartVerb, stopVerb, startVerb, execVerb, runVerb, configVerb, kvVerb, servicesVerb, resolveVerb, dbVerb, psqlVerb, caVerb, agentVerb, daemonVerb];

function mainHelp(): string {
  const visible = VERBS.filter((v) => !v.hidden);
  const width = Math.max(...visible.map((v) => v.name.length));
  return [
    `machineroom ${VERSION}: a production-like deployment environment on one workstation, from one config file.`,
    '',
    'Usage: machineroom <command> [options]',
    '',
    'Commands:',
    ...visible.map((v) => `  ${v.name.padEnd(width)}  ${v.summary}`),
    '',
    'Every command has --help. Config: machineroom.yml in this directory or a parent, or -f FILE.',
    'Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config.',
    'Environment: MACHINEROOM_API_PORT (API port), MACHINEROOM_PROFILES, MACHINEROOM_HOME (machine-wide state), NO_COLOR, DEBUG=machineroom:*.',
  ].join('\n');
}

/** Runs the CLI with argv (without node and script); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? VERBS.find((v) => v.name === rest[0]) : undefined;
    process.stdout.write((topic ? helpText(topic) : mainHelp()) + '\n');
    return name ? EXIT_OK : EXIT_USAGE;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`machineroom ${VERSION}\n`);
    return EXIT_OK;
  }
  const verb = VERBS.find((v) => v.name === name);
  try {
    if (!verb) throw new MachineroomError('ERR_USAGE', `unknown command "${name}"; commands: ${VERBS.filter((v) => !v.hidden).map((v) => v.name).join(', ')}`);
    const args = parseVerbArgs(verb, rest);
    if (args.values.help === true) {
      process.stdout.write(helpText(verb) + '\n');
      return EXIT_OK;
    }
    return await verb.run(args);
  } catch (err) {
    const color = useColor(process.stderr);
    if (err instanceof MachineroomError) {
      process.stderr.write(`${paint('error:', 'red', color)} ${err.message}\n`);
    } else {
      process.stderr.write(`${paint('error:', 'red', color)} ${(err as Error)?.stack ?? String(err)}\n`);
    }
    return exitCodeOf(err);
  }
}

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// The command is done: pooled keep-alive sockets to the daemon must not hold the exit. Leave once output is flushed.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
