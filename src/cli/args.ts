// Verb definitions and argument parsing on node:util parseArgs, with generated --help texts.
import { parseArgs } from 'node:util';
import { MachineroomError } from '../errors/index.js';

/** One option of a verb. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  value?: string;
  description: string;
}

/** What a verb's run() receives. */
export interface VerbArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Arguments after `--` (exec and run). */
  rest: string[];
}

/** A CLI verb. */
export interface Verb {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  options: Record<string, OptionSpec>;
  /** Whether `--` and what follows it are accepted. */
  takesCommand?: boolean;
  hidden?: boolean;
  run(args: VerbArgs): Promise<number>;
}

/** Options every verb accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  file: { type: 'string', short: 'f', multiple: true, value: 'FILE', description: 'config file (repeatable: later files override earlier ones); default: machineroom.yml in this directory or a parent' },
  profile: { type: 'string', multiple: true, value: 'NAME', description: 'enable services of this profile (repeatable; also MACHINEROOM_PROFILES=a,b)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

/** The --help text of a verb. */
export function helpText(verb: Verb): string {
  const opts = { ...verb.options, ...GLOBAL_OPTIONS };
  const rows = Object.entries(opts).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    return [flag, o.description];
  });
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return [
    `Usage: machineroom ${verb.usage}`,
    '',
    verb.summary,
    ...(verb.description ? ['', verb.description] : []),
    '',
    'Options:',
    ...rows.map(([f, d]) => `  ${f!.padEnd(width)}  ${d}`),
    '',
    'Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad config.',
  ].join('\n');
}

/** Parses argv for a verb; usage mistakes become ERR_USAGE. */
export function parseVerbArgs(verb: Verb, argv: string[]): VerbArgs {
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const rest = dd >= 0 ? argv.slice(dd + 1) : [];
  if (dd >= 0 && !verb.takesCommand) throw new MachineroomError('ERR_USAGE', `machineroom ${verb.name} takes no command after "--"; see machineroom ${verb.name} --help`);
  const options = Object.fromEntries(
    Object.entries({ ...verb.options, ...GLOBAL_OPTIONS }).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  try {
    const { values, positionals } = parseArgs({ args: own, options, allowPositionals: true, strict: true });
    return { values: values as VerbArgs['values'], positionals, rest };
  } catch (err) {
    throw new MachineroomError('ERR_USAGE', `${(err as Error).message.replace(/\.$/, '')}; see machineroom ${verb.name} --help`);
  }
}

/** A string option's value. */
export function str(args: VerbArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string option's values. */
export function strs(args: VerbArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}

/** A boolean option. */
export function flag(args: VerbArgs, name: string): boolean {
  return args.values[name] === true;
}

/** A non-negative integer option. */
export function intOption(args: VerbArgs, name: string): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new MachineroomError('ERR_USAGE', `--${name}: expected a whole number >= 0, got "${v}"`);
  return n;
}
