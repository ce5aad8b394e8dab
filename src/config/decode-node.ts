// Validates a ConfigNode tree against the TypeBox schema and turns it into plain option objects.
// Our own walk instead of Value.Errors: it visits keys in document order (the first error is the first in
// the file), knows where every node was written, and words messages for people.

import { Kind } from '@sinclair/typebox';
import type { TSchema } from '@sinclair/typebox';
import type { ConfigNode, NodePos, ScalarNode } from './config-node.js';
import { describeNode, invalidConfig, joinPath } from './config-error.js';
import { DURATION_PATTERN } from './duration.js';
import { describeUnknownKey } from './unknown-key.js';

interface SchemaView {
  [Kind]: string;
  const?: unknown;
  anyOf?: SchemaView[];
  items?: SchemaView;
  properties?: Record<string, SchemaView>;
  patternProperties?: Record<string, SchemaView>;
  propertyNames?: { pattern: string; errorMessage?: string };
  required?: string[];
  pattern?: string;
  minLength?: number;
  minItems?: number;
  minProperties?: number;
  minimum?: number;
  maximum?: number;
  errorMessage?: string;
}

/** Checks a node against a schema and returns its plain value; throws ERR_CONFIG_INVALID at the first problem. */
export function decodeNode(node: ConfigNode, schema: TSchema, path: string, ownerPos?: NodePos): unknown {
  return decode(node, schema as unknown as SchemaView, path, ownerPos ?? node.pos);
}

function decode(node: ConfigNode, schema: SchemaView, path: string, ownerPos: NodePos): unknown {
  switch (schema[Kind]) {
    case 'Object':
      return decodeObject(node, schema, path, ownerPos);
    case 'Record':
      return decodeRecord(node, schema, path);
    case 'Union':
      return decodeUnion(node, schema, path, ownerPos);
    case 'Array':
      return decodeArray(node, schema, path);
    case 'String':
      return decodeString(node, schema, path);
    case 'Integer':
    case 'Number':
      return decodeNumber(node, schema, path);
    case 'Boolean':
    case 'Literal':
    case 'Null':
      if (!accepts(schema, node)) throw mismatch(node, schema, path);
      return coerceScalar(node as ScalarNode, schema);
    default:
      throw new Error(`decodeNode: schema kind ${schema[Kind]} is not supported`);
  }
}

function decodeObject(node: ConfigNode, schema: SchemaView, path: string, ownerPos: NodePos): Record<string, unknown> {
  if (node.kind !== 'map') throw mismatch(node, schema, path);
  const properties = schema.properties ?? {};
  const values: [string, unknown][] = [];
  for (const entry of node.entries) {
    const childPath = joinPath(path, entry.key);
    if (Object.hasOwn(properties, entry.key)) values.push([entry.key, decode(entry.value, properties[entry.key]!, childPath, entry.keyPos)]);
    else if (!matchesAnyPattern(schema.patternProperties, entry.key)) throw invalidConfig(childPath, describeUnknownKey(entry.key, Object.keys(properties)), entry.keyPos);
  }
  const missing = (schema.required ?? []).find((key) => !values.some(([name]) => name === key));
  if (missing !== undefined) throw invalidConfig(path, `missing required key "${missing}"`, ownerPos);
  return Object.fromEntries(values);
}

function decodeRecord(node: ConfigNode, schema: SchemaView, path: string): Record<string, unknown> {
  if (node.kind !== 'map') throw mismatch(node, schema, path);
  const valueSchema = Object.values(schema.patternProperties ?? {})[0]!;
  const names = schema.propertyNames;
  const values: [string, unknown][] = [];
  for (const entry of node.entries) {
    if (names && !new RegExp(names.pattern, 'u').test(entry.key)) throw invalidConfig(path, `invalid key ${JSON.stringify(entry.key)}; ${names.errorMessage ?? `keys must match ${names.pattern}`}`, entry.keyPos);
    values.push([entry.key, decode(entry.value, valueSchema, joinPath(path, entry.key), entry.keyPos)]);
  }
  if (values.length < (schema.minProperties ?? 0)) throw invalidConfig(path, 'expected at least one entry, got an empty map', node.pos);
  return Object.fromEntries(values);
}

function decodeUnion(node: ConfigNode, schema: SchemaView, path: string, ownerPos: NodePos): unknown {
  const branch = schema.anyOf?.find((candidate) => accepts(candidate, node));
  if (!branch) throw mismatch(node, schema, path);
  return decode(node, branch, path, ownerPos);
}

function decodeArray(node: ConfigNode, schema: SchemaView, path: string): unknown[] {
  if (node.kind !== 'seq' || node.items.length < (schema.minItems ?? 0)) throw mismatch(node, schema, path);
  return node.items.map((item, index) => decode(item, schema.items!, joinPath(path, index), item.pos));
}

function decodeString(node: ConfigNode, schema: SchemaView, path: string): string {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') throw mismatch(node, schema, path);
  const tooShort = node.value.length < (schema.minLength ?? 0);
  if (tooShort || (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(node.value))) throw mismatch(node, schema, path);
  return node.value;
}

function decodeNumber(node: ConfigNode, schema: SchemaView, path: string): number {
  if (!accepts(schema, node)) throw mismatch(node, schema, path);
  const value = coerceScalar(node as ScalarNode, schema) as number;
  if (value < (schema.minimum ?? -Infinity) || value > (schema.maximum ?? Infinity)) throw mismatch(node, schema, path);
  return value;
}

/** Whether a node has the shape a schema wants (used to pick a union branch). */
function accepts(schema: SchemaView, node: ConfigNode): boolean {
  switch (schema[Kind]) {
    case 'Object':
    case 'Record':
      return node.kind === 'map';
    case 'Array':
      return node.kind === 'seq';
    case 'Union':
      return schema.anyOf?.some((branch) => accepts(branch, node)) ?? false;
    default:
      return node.kind === 'scalar' && coerceScalar(node, schema) !== undefined;
  }
}

/** A scalar's value as the schema's type; interpolated strings ("${REPLICAS}") may become numbers or booleans. */
function coerceScalar(node: ScalarNode, schema: SchemaView): unknown {
  const text = node.interpolated && typeof node.value === 'string' ? node.value.trim() : undefined;
  switch (schema[Kind]) {
    case 'String':
      return typeof node.value === 'string' ? node.value : undefined;
    case 'Integer':
      if (typeof node.value === 'number') return Number.isInteger(node.value) ? node.value : undefined;
      return text !== undefined && /^-?[0-9]+$/.test(text) ? Number(text) : undefined;
    case 'Number':
      if (typeof node.value === 'number') return node.value;
      return text !== undefined && text !== '' && Number.isFinite(Number(text)) ? Number(text) : undefined;
    case 'Boolean':
      if (typeof node.value === 'boolean') return node.value;
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'Null':
      return node.value === null ? null : undefined;
    case 'Literal':
      return node.value === schema.const || (text !== undefined && text === String(schema.const)) ? schema.const : undefined;
    default:
      return undefined;
  }
}

function matchesAnyPattern(patterns: Record<string, unknown> | undefined, key: string): boolean {
  return Object.keys(patterns ?? {}).some((pattern) => new RegExp(pattern, 'u').test(key));
}

function mismatch(node: ConfigNode, schema: SchemaView, path: string) {
  const hint = schema.pattern === DURATION_PATTERN && node.kind === 'scalar' && typeof node.value === 'number' ? `; write "${node.value}s"` : '';
  return invalidConfig(path, `expected ${describeExpected(schema)}, got ${describeGot(node)}${hint}`, node.pos);
}

function describeGot(node: ConfigNode): string {
  if (node.kind === 'map' && node.entries.length === 0) return 'an empty map';
  if (node.kind === 'seq' && node.items.length === 0) return 'an empty list';
  return describeNode(node);
}

/** What a schema wants, in words: its errorMessage, or one made from its type and limits. */
function describeExpected(schema: SchemaView): string {
  if (schema.errorMessage !== undefined) return schema.errorMessage.replace(/^expected /, '');
  switch (schema[Kind]) {
    case 'Union':
      return describeUnion(schema.anyOf ?? []);
    case 'Integer':
    case 'Number':
      return describeNumber(schema);
    case 'String':
      if (schema.pattern !== undefined) return `a string matching ${schema.pattern}`;
      return (schema.minLength ?? 0) > 0 ? 'a non-empty string' : 'a string';
    case 'Array':
      return (schema.minItems ?? 0) > 0 ? 'a non-empty list' : 'a list';
    case 'Object':
    case 'Record':
      return 'a map';
    case 'Boolean':
      return 'true or false';
    case 'Literal':
      return JSON.stringify(schema.const);
    default:
      return 'null';
  }
}

function describeUnion(branches: SchemaView[]): string {
  if (branches.every((branch) => branch[Kind] === 'Literal')) return `one of ${branches.map((branch) => JSON.stringify(branch.const)).join(', ')}`;
  return branches.map(describeExpected).join(' or ');
}

function describeNumber(schema: SchemaView): string {
  const noun = schema[Kind] === 'Integer' ? 'an integer' : 'a number';
  if (schema.minimum !== undefined && schema.maximum !== undefined) return `${noun} ${schema.minimum}-${schema.maximum}`;
  if (schema.minimum !== undefined) return `${noun} >= ${schema.minimum}`;
  if (schema.maximum !== undefined) return `${noun} <= ${schema.maximum}`;
  return noun;
}
