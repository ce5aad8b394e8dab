// KV entries as the dashboard sees them: text when it is safe to show (not secret, valid UTF-8, at most 64 KiB), with
// size, flags and indexes always, so the page can list every key and fetch a value in full on demand.
import { isUtf8 } from 'node:buffer';
import type { KvEntry } from '../bus/index.js';
import { isSecretKey } from '../client/index.js';

/** Values above this many bytes are not sent in the stream (GET /v1/machineroom/kv/<key> has them). */
export const STREAM_VALUE_LIMIT = 64 * 1024;

/** One key in the stream's `kv` event. */
export interface KvEntryView {
  key: string;
  flags: number;
  createIndex: number;
  modifyIndex: number;
  session?: string;
  size: number;
  secret: boolean;
  binary: boolean;
  /** The UTF-8 text; null when secret, binary or larger than STREAM_VALUE_LIMIT. */
  value: string | null;
}

/** The stream's `kv` event: the whole store at one index. */
export interface KvSnapshot {
  index: number;
  entries: KvEntryView[];
}

/** One value in full, revealed (GET /v1/machineroom/kv/<key>, authenticated). */
export interface KvValueView {
  key: string;
  /** The UTF-8 text; null when the value is not valid UTF-8 (base64 has it). */
  value: string | null;
  base64: string;
  flags: number;
  modifyIndex: number;
  secret: boolean;
}

/** The text of a value, or null when it is not valid UTF-8. */
export function textOf(value: Buffer): string | null {
  return isUtf8(value) ? value.toString('utf8') : null;
}

/** An entry for the stream: secrets, binary and large values are left out. */
export function toEntryView(e: KvEntry, secrets: readonly string[]): KvEntryView {
  const secret = isSecretKey(e.Key, secrets);
  const binary = !isUtf8(e.Value);
  return {
    key: e.Key,
    flags: e.Flags,
    createIndex: e.CreateIndex,
    modifyIndex: e.ModifyIndex,
    ...(e.Session ? { session: e.Session } : {}),
    size: e.Value.length,
    secret,
    binary,
    value: secret || binary || e.Value.length > STREAM_VALUE_LIMIT ? null : e.Value.toString('utf8'),
  };
}

/** An entry in full, secret or not. */
export function toValueView(e: KvEntry, secrets: readonly string[]): KvValueView {
  return { key: e.Key, value: textOf(e.Value), base64: e.Value.toString('base64'), flags: e.Flags, modifyIndex: e.ModifyIndex, secret: isSecretKey(e.Key, secrets) };
}
