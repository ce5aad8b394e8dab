// Compiles a parsed ?filter against the shape of what an endpoint lists, and evaluates it on each item, with
// go-bexpr's semantics: selectors through lists match when ANY element does; a missing map key is "not present".
import { parseFilter, FilterSyntaxError } from './filter-parse.js';
import type { FilterExpression, MatchOperator } from './filter-parse.js';
import { badRequest } from './consul-error.js';
import { parseGoBool } from './query-options.js';

/** The shape of a filterable value (the Go struct the selector walks). */
export type FieldSchema = 'string' | 'number' | 'bool' | { list: FieldSchema } | { map: FieldSchema } | { struct: Record<string, FieldSchema> };

type Leaf = 'string' | 'number' | 'bool';

const isLeaf = (s: FieldSchema): s is Leaf => typeof s === 'string';

/** A compiled filter: true keeps the item. */
export type FilterPredicate = (item: unknown) => boolean;

interface CompiledMatch {
  operator: MatchOperator;
  path: string[];
  value: string | undefined;
  regexp: RegExp | undefined;
}

/** Go's RE2 inline flags at the start ("(?i)") become JS flags. */
function compileRegexp(raw: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(raw);
  const flags = m ? [...new Set(m[1]!.split(''))].join('') : '';
  try {
    return new RegExp(m ? raw.slice(m[0].length) : raw, flags);
  } catch (err) {
    throw new Error(`Failed to compile regular expression ${JSON.stringify(raw)}: ${(err as Error).message}`);
  }
}

function coerce(raw: string, leaf: Leaf): string | number | boolean | undefined {
  if (leaf === 'string') return raw;
  if (leaf === 'number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : undefined;
  }
  return parseGoBool(raw);
}

/** Walks the selector through the schema (lists pass through); the schema at its end, or an error naming it. */
function resolveSchema(schema: FieldSchema, path: string[], text: string): FieldSchema {
  let current = schema;
  let i = 0;
  while (i < path.length) {
    if (isLeaf(current)) throw new Error(`Selector ${JSON.stringify(text)} is not valid`);
    if ('list' in current) {
      current = current.list;
      continue;
    }
    if ('map' in current) {
      current = current.map;
      i += 1;
      continue;
    }
    const field = current.struct[path[i]!];
    if (field === undefined) throw new Error(`Selector ${JSON.stringify(text)} is not valid`);
    current = field;
    i += 1;
  }
  return current;
}

/** Checks the operator applies to what the selector names, and that the value converts to its type. */
function checkOperator(schema: FieldSchema, m: { operator: MatchOperator; value: string | undefined; selector: { text: string } }): void {
  const sel = JSON.stringify(m.selector.text);
  const unsupported = () => new Error(`Invalid match operator ${JSON.stringify(m.operator)} for selector ${sel}`);
  const element = !isLeaf(schema) && 'list' in schema ? schema.list : undefined;
  const leaf = isLeaf(schema) ? schema : element !== undefined && isLeaf(element) ? element : undefined;
  switch (m.operator) {
    case 'is empty':
    case 'is not empty':
      if (schema === 'number' || schema === 'bool' || (!isLeaf(schema) && 'struct' in schema)) throw unsupported();
      return;
    case 'in':
    case 'not in':
      if (!isLeaf(schema) && 'map' in schema) return;
      if (schema === 'string') return;
      if (leaf === undefined || isLeaf(schema)) throw new Error(`Cannot perform in/contains operations on selector ${sel}`);
      break;
    case 'matches':
    case 'not matches':
      if (leaf !== 'string') throw new Error(`Cannot match a regular expression against selector ${sel}: it is not a string`);
      return;
    case '==':
    case '!=':
      if (leaf === undefined) throw unsupported();
      break;
  }
  if (leaf !== undefined && coerce(m.value ?? '', leaf) === undefined) {
    throw new Error(`error getting match value in expression: cannot convert ${JSON.stringify(m.value)} to ${leaf === 'number' ? 'a number' : 'a bool'} for selector ${sel}`);
  }
}

function compile(expr: FilterExpression, schema: FieldSchema): (item: unknown) => boolean {
  switch (expr.kind) {
    case 'and': {
      const l = compile(expr.left, schema);
      const r = compile(expr.right, schema);
      return (item) => l(item) && r(item);
    }
    case 'or': {
      const l = compile(expr.left, schema);
      const r = compile(expr.right, schema);
      return (item) => l(item) || r(item);
    }
    case 'not': {
      const inner = compile(expr.operand, schema);
      return (item) => !inner(item);
    }
    case 'match': {
      const target = resolveSchema(schema, expr.selector.path, expr.selector.text);
      checkOperator(target, expr);
      const m: CompiledMatch = {
        operator: expr.operator,
        path: expr.selector.path,
        value: expr.value,
        regexp: expr.operator === 'matches' || expr.operator === 'not matches' ? compileRegexp(expr.value ?? '') : undefined,
      };
      return (item) => evaluate(m, schema, item, 0);
    }
  }
}

/** What a match says when the selector names a map key that is not there (go-bexpr's NotPresentDisposition). */
function notPresent(operator: MatchOperator): boolean {
  return operator === '!=' || operator === 'not in' || operator === 'is empty' || operator === 'not matches';
}

function evaluate(m: CompiledMatch, schema: FieldSchema, value: unknown, i: number): boolean {
  if (!isLeaf(schema) && 'list' in schema) {
    // Through a list (or ==, != and matches on a list of values) the match holds when it holds for any element.
    if (i < m.path.length || !isCollectionOperator(m.operator)) {
      const items = Array.isArray(value) ? value : [];
      return items.some((item) => evaluate(m, schema.list, item, i));
    }
    return apply(m, schema, value);
  }
  if (i === m.path.length) return apply(m, schema, value);
  if (isLeaf(schema)) return false;
  const key = m.path[i]!;
  const obj = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if ('map' in schema) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) return notPresent(m.operator);
    return evaluate(m, schema.map, obj[key], i + 1);
  }
  const field = schema.struct[key];
  return field === undefined ? false : evaluate(m, field, obj[key], i + 1);
}

/** Operators that look at a collection as a whole (membership, emptiness) rather than at each element. */
function isCollectionOperator(op: MatchOperator): boolean {
  return op === 'in' || op === 'not in' || op === 'is empty' || op === 'is not empty';
}

function apply(m: CompiledMatch, schema: FieldSchema, value: unknown): boolean {
  const negate = m.operator === '!=' || m.operator === 'not in' || m.operator === 'is not empty' || m.operator === 'not matches';
  return negate !== applyPositive(m, schema, value);
}

function applyPositive(m: CompiledMatch, schema: FieldSchema, value: unknown): boolean {
  switch (m.operator) {
    case 'is empty':
    case 'is not empty':
      if (Array.isArray(value)) return value.length === 0;
      if (typeof value === 'string') return value === '';
      if (typeof value === 'object' && value !== null) return Object.keys(value).length === 0;
      return true;
    case 'in':
    case 'not in': {
      if (typeof value === 'string') return value.includes(m.value ?? '');
      if (!isLeaf(schema) && 'map' in schema) return typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, m.value ?? '');
      const element = !isLeaf(schema) && 'list' in schema && isLeaf(schema.list) ? schema.list : 'string';
      const wanted = coerce(m.value ?? '', element);
      return Array.isArray(value) && value.some((v) => v === wanted);
    }
    case 'matches':
    case 'not matches':
      return typeof value === 'string' && m.regexp!.test(value);
    case '==':
    case '!=': {
      const leaf = isLeaf(schema) ? schema : 'string';
      // A field absent from the item compares as Go's zero value.
      const actual = value ?? (leaf === 'string' ? '' : leaf === 'number' ? 0 : false);
      return actual === coerce(m.value ?? '', leaf);
    }
  }
}

/** Compiles `text` for items shaped like `schema`; throws 400 "Failed to create result filter: ..." when invalid. */
export function compileFilter(text: string, schema: FieldSchema): FilterPredicate {
  try {
    return compile(parseFilter(text), schema);
  } catch (err) {
    const message = err instanceof FilterSyntaxError || err instanceof Error ? err.message : String(err);
    throw badRequest(`Failed to create result filter: ${message}`);
  }
}

/** Applies an optional filter to a list. */
export function filterList<T>(items: T[], filter: string | undefined, schema: FieldSchema): T[] {
  if (!filter) return items;
  const keep = compileFilter(filter, schema);
  return items.filter((item) => keep(item));
}
