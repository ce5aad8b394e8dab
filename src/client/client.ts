// The HTTP client of the control API: the CLI's MachineRoom when the daemon runs in another process.
import { MachineroomError, errorFromWire } from '../errors/index.js';
import type { ResolvedConfig } from '../config/index.js';
import { readLiveDaemon, readToken } from '../state/index.js';
import type { DaemonRecord, StatePaths } from '../state/index.js';
import type { LogLine, MachineroomEvent } from '../supervisor/index.js';
import { TOKEN_HEADER, VERSION_HEADER } from './protocol.js';
import type { ApplyResult, DaemonInfo, MachineRoom, RoomStatus, RunLease, Traffic } from './machine-room.js';
import { VERSION } from './version.js';
import { httpRequest } from './http-request.js';
import type { HttpAnswer } from './http-request.js';

async function* readNdjson<T>(res: HttpAnswer): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const value of res.chunks()) {
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line) yield JSON.parse(line) as T;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
}

/** A client of one daemon's control API. */
export function createClient(baseUrl: string, token: string | undefined): MachineRoom {
  async function call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<HttpAnswer> {
    let res: HttpAnswer | undefined;
    // A keep-alive connection the daemon closed just as it was reused fails once; reads are safe to send again.
    for (let attempt = 0; !res; attempt++) {
      try {
        res = await httpRequest(`${baseUrl}/v1/machineroom/${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...(token ? { [TOKEN_HEADER]: token } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        if (method === 'GET' && attempt === 0) continue;
        throw new MachineroomError('ERR_DAEMON_NOT_RUNNING', `cannot reach the daemon at ${baseUrl}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (!res.ok) {
      let payload: unknown;
      try {
        payload = await res.json();
      } catch {
        payload = undefined;
      }
      throw errorFromWire(res.status, payload);
    }
    return res;
  }
  const getJson = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await call(method, path, body)).json() as Promise<T>;
  return {
    info: () => getJson<DaemonInfo>('GET', 'version'),
    apply: (config: ResolvedConfig) => getJson<ApplyResult>('PUT', 'config', config),
    status: () => getJson<RoomStatus>('GET', 'status'),
    scale: async (changes) => void (await getJson('POST', 'scale', changes)),
    restart: async (target) => (await getJson<{ restarted: string[] }>('POST', 'restart', { target })).restarted,
    stopService: async (service) => void (await getJson('POST', 'stop', { service })),
    database: (action) => getJson('POST', 'db', action),
    startService: async (service) => void (await getJson('POST', 'start', { service })),
    async *logs(filter, signal) {
      const q = new URLSearchParams();
      for (const t of filter.targets ?? []) q.append('target', t);
      if (filter.tail !== undefined) q.set('tail', String(filter.tail));
      if (filter.since !== undefined) q.set('since', String(filter.since));
      if (filter.follow) q.set('follow', '1');
      yield* readNdjson<LogLine>(await call('GET', `logs?${q}`, undefined, signal));
    },
    async *events(opts, signal) {
      yield* readNdjson<MachineroomEvent>(await call('GET', `events${opts.follow ? '?follow=1' : ''}`, undefined, signal));
    },
    instanceEnv: (name) => getJson<Record<string, string>>('GET', `env/${encodeURIComponent(name)}`),
    runLease: (service) => getJson<RunLease>('POST', 'run', { service }),
    releaseRun: async (runId) => void (await getJson('DELETE', `run/${encodeURIComponent(runId)}`)),
    shutdown: async () => void (await getJson('POST', 'shutdown')),
    traffic: () => getJson<Traffic>('GET', 'traffic'),
  };
}

/** Connects to the project's running daemon, refusing one of another machineroom version. */
export async function connectToDaemon(paths: StatePaths, opts: { anyVersion?: boolean } = {}): Promise<{ room: MachineRoom; record: DaemonRecord } | undefined> {
  const record = readLiveDaemon(paths);
  if (!record) return undefined;
  const room = createClient(`http://${record.apiHost}:${record.apiPort}`, readToken(paths));
  const res = await httpRequest(`http://${record.apiHost}:${record.apiPort}/v1/machineroom/version`).catch((err: unknown) => {
    throw new MachineroomError('ERR_DAEMON_NOT_RUNNING', `the daemon (pid ${record.pid}) does not answer on ${record.apiHost}:${record.apiPort}: ${(err as Error).message}`);
  });
  const theirs = res.header(VERSION_HEADER) ?? record.version;
  res.discard();
  if (theirs !== VERSION && !opts.anyVersion) {
    throw new MachineroomError(
      'ERR_VERSION_MISMATCH',
      `the daemon of this project (pid ${record.pid}) runs machineroom ${theirs}, but this CLI is ${VERSION}; stop it with the CLI of version ${theirs}, or run \`machineroom down --any-version\` to stop it with this one`,
    );
  }
  return { room, record };
}
