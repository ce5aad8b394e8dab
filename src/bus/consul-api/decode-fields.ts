// Decoding Consul JSON bodies as its mapstructure decoder does: field names match case-insensitively (snake_case too),
// wrong types fail with "'Field' expected type 'int', got unconvertible type 'string', value: 'x'".
import { badRequest } from './consul-error.js';
import type { ConsulHttpError } from './consul-error.js';
import { parseDurationMs } from './go-duration.js';

/** A decoded JSON object. */
export type JsonObject = Record<string, unknown>;

/** Go's name for a JSON value's type, as mapstructure reports it. */
function goTypeOf(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

function shown(v: unknown): string {
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** The error mapstructure reports for a value of the wrong type (prefixed with `prefix`, e.g. "Request decode failed"). */
export function typeError(prefix: string, path: string, expected: string, value: unknown): ConsulHttpError {
  return badRequest(`${prefix}: 1 error(s) decoding:\n\n* '${path}' expected type '${expected}', got unconvertible type '${goTypeOf(value)}', value: '${shown(value)}'`);
}

const normalize = (name: string) => name.replace(/[_-]/g, '').toLowerCase();

/** Whether `v` is a JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads fields of one JSON object; `path` names it in errors ("Check", "Checks[1]"). */
export class FieldReader {
  constructor(
    readonly obj: JsonObject,
    readonly path: string,
    readonly prefix = 'Request decode failed',
  ) {}

  /** Opens a value as an object (absent/null: an empty one); non-objects fail as mapstructure fails. */
  static of(value: unknown, path: string, prefix = 'Request decode failed'): FieldReader {
    if (value === undefined || value === null) return new FieldReader({}, path, prefix);
    if (!isObject(value)) throw typeError(prefix, path || 'body', 'struct', value);
    return new FieldReader(value, path, prefix);
  }

  private where(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }

  /** Whether any of the names is present (case- and underscore-insensitively). */
  has(...names: string[]): boolean {
    return this.raw(...names) !== undefined;
  }

  /** The raw value of the first present name (null counts as absent). */
  raw(...names: string[]): unknown {
    const wanted = new Set(names.map(normalize));
    for (const [k, v] of Object.entries(this.obj)) if (wanted.has(normalize(k)) && v !== null) return v;
    return undefined;
  }

  string(name: string, ...aliases: string[]): string | undefined {
    const v = this.raw(name, ...aliases);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw typeError(this.prefix, this.where(name), 'string', v);
    return v;
  }

  int(name: string, ...aliases: string[]): number | undefined {
    const v = this.raw(name, ...aliases);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw typeError(this.prefix, this.where(name), 'int', v);
    return Math.trunc(v);
  }

  bool(name: string, ...aliases: string[]): boolean | undefined {
    const v = this.raw(name, ...aliases);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw typeError(this.prefix, this.where(name), 'bool', v);
    return v;
  }

  strings(name: string, ...aliases: string[]): string[] | undefined {
    const v = this.raw(name, ...aliases);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw typeError(this.prefix, this.where(name), '[]string', v);
    return v.map((item, i) => {
      if (typeof item !== 'string') throw typeError(this.prefix, `${this.where(name)}[${i}]`, 'string', item);
      return item;
    });
  }

  /** A map[string]string (Meta, NodeMeta): keys are kept as given. */
  stringMap(name: string, ...aliases: string[]): Record<string, string> | undefined {
    const v = this.raw(name, ...aliases);
    if (v === undefined) return undefined;
    if (!isObject(v)) throw typeError(this.prefix, this.where(name), 'map[string]string', v);
    const out: Record<string, string> = {};
    for (const [k, item] of Object.entries(v)) {
      if (typeof item !== 'string') throw typeError(this.prefix, `${this.where(name)}[${k}]`, 'string', item);
      out[k] = item;
    }
    return out;
  }

  /** A nested object's reader (absent: undefined). */
  object(name: string, ...aliases: string[]): FieldReader | undefined {
    const v = this.raw(name, ...aliases);
    if (v === undefined) return undefined;
    if (!isObject(v)) throw typeError(this.prefix, this.where(name), 'struct', v);
    return new FieldReader(v, this.where(name), this.prefix);
  }

  /** A list of objects (absent: undefined). */
  objects(name: string, ...aliases: string[]): FieldReader[] | undefined {
    const v = this.raw(name, ...aliases);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw typeError(this.prefix, this.where(name), '[]struct', v);
    return v.map((item, i) => {
      if (!isObject(item)) throw typeError(this.prefix, `${this.where(name)}[${i}]`, 'struct', item);
      return new FieldReader(item, `${this.where(name)}[${i}]`, this.prefix);
    });
  }

  /** A time.Duration: Go text ("10s") or a number of nanoseconds; returned in milliseconds. */
  duration(name: string, ...aliases: string[]): number | undefined {
    const v = this.raw(name, ...aliases);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v / 1e6;
    if (typeof v !== 'string') throw typeError(this.prefix, this.where(name), 'time.Duration', v);
    if (v === '') return 0;
    try {
      return parseDurationMs(v);
    } catch (err) {
      throw badRequest(`${this.prefix}: 1 error(s) decoding:\n\n* error decoding '${this.where(name)}': ${(err as Error).message}`);
    }
  }
}
