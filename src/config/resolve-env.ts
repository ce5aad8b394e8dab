// A service's environment: env_file contents, then env on top; values become strings.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigNode, ScalarNode } from './config-node.js';
import { findNode } from './config-node.js';
import { invalidConfig, labelFile } from './config-error.js';
import { scanDotenv } from './dotenv.js';
import type { VariableLookup } from './interpolate.js';
import type { EnvOptions, ServiceOptions } from './schema.js';

/** What resolving env needs besides the options: where they were written and the host's variables. */
export interface EnvContext {
  /** The service's node, for positions and for files relative to where a value was written. */
  node: ConfigNode | undefined;
  path: string;
  cwd: string;
  /** Variables for `NAME` entries without a value (process environment over .env). */
  lookup: VariableLookup;
}

/** Resolves env_file (absolute paths, contents) and env, env winning; throws for missing or malformed files. */
export async function resolveEnv(options: ServiceOptions, ctx: EnvContext): Promise<{ env: Record<string, string>; envFiles: string[] }> {
  const envFiles = listEnvFiles(options, ctx.node);
  const env = new Map<string, string>();
  for (const file of envFiles) for (const [key, value] of Object.entries(await readEnvFile(file.absolute, file.node, ctx))) env.set(key, value);
  for (const [key, value] of convertEnv(options.env, findNode(ctx.node, ['env']), ctx.lookup)) env.set(key, value);
  return { env: Object.fromEntries(env), envFiles: envFiles.map((file) => file.absolute) };
}

/** Stringifies a scalar value, keeping numbers as written ("1.10" stays "1.10"). */
export function stringifyValue(value: string | number | boolean, node: ConfigNode | undefined): string {
  if (typeof value === 'string') return value;
  const raw = node?.kind === 'scalar' ? node.raw : undefined;
  return raw !== undefined && raw !== '' && !(node as ScalarNode).interpolated ? raw : String(value);
}

function listEnvFiles(options: ServiceOptions, serviceNode: ConfigNode | undefined): { absolute: string; node: ConfigNode }[] {
  const node = findNode(serviceNode, ['env_file']);
  if (options.env_file === undefined || node === undefined) return [];
  const values = typeof options.env_file === 'string' ? [options.env_file] : options.env_file;
  const nodes = node.kind === 'seq' ? node.items : [node];
  return values.map((value, index) => ({ absolute: path.resolve(path.dirname(nodes[index]!.pos.file), value), node: nodes[index]! }));
}

async function readEnvFile(absolute: string, node: ConfigNode, ctx: EnvContext): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `not readable (${(err as Error).message})`;
    throw invalidConfig(`${ctx.path}.env_file`, `env file ${labelFile(ctx.cwd, absolute)} ${reason}; create it or remove it from env_file`, node.pos);
  }
  const scan = scanDotenv(text);
  if (scan.problem) {
    const { line, col, message } = scan.problem;
    throw invalidConfig(`${ctx.path}.env_file`, message, { file: absolute, label: labelFile(ctx.cwd, absolute), line, col });
  }
  return scan.values;
}

function convertEnv(env: EnvOptions | undefined, node: ConfigNode | undefined, lookup: VariableLookup): [string, string][] {
  const result: [string, string][] = [];
  if (env === undefined) return result;
  const pairs: [string, string | number | boolean | null, ConfigNode | undefined][] = Array.isArray(env)
    ? env.map((item) => splitAssignment(item))
    : Object.entries(env).map(([key, value]) => [key, value, findNode(node, [key])]);
  for (const [key, value, valueNode] of pairs) {
    const resolved = value === null ? lookup(key) : stringifyValue(value, valueNode);
    if (resolved !== undefined) result.push([key, resolved]);
  }
  return result;
}

function splitAssignment(item: string): [string, string | null, undefined] {
  const equals = item.indexOf('=');
  return equals < 0 ? [item, null, undefined] : [item.slice(0, equals), item.slice(equals + 1), undefined];
}
