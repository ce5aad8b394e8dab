// Wake-up latency of many watchers on one key: machineroom's blocking queries (`GET /v1/kv/KEY?index=N&wait=60s`)
// against etcd's watch streams through its gRPC gateway (`POST /v3/watch`), then one write, timed per watcher.
import { Agent, request } from 'node:http';
import type { ClientRequest } from 'node:http';
import { send, spec } from './bus-http.js';
import { sleep, waitFor } from './bus-procs.js';

/** One round: per woken watcher, ms from just before the write was sent, and ms from the write's acknowledgement. */
export interface WakeRound {
  fromSend: number[];
  fromAck: number[];
  /** Watchers that never woke within the bound, or that failed. */
  missed: number;
  /** Watchers that answered before the write (a spurious wake-up). */
  early: number;
  /** The write's own round trip (send → acknowledgement), ms. */
  writeMs: number;
}

/** How long a round waits for stragglers after the write before giving up on them. */
const WAKE_BOUND_MS = 20000;

interface Watchers {
  requests: ClientRequest[];
  ends: number[];
  settled: Promise<unknown>;
  early: () => number;
}

/** Collects the timings once the write has been acknowledged and the watchers have answered (or the bound passed). */
async function finishRound(w: Watchers, t0: number, tAck: number, agent: Agent): Promise<WakeRound> {
  await Promise.race([w.settled, sleep(WAKE_BOUND_MS)]);
  for (const r of w.requests) r.destroy();
  agent.destroy();
  const woke = w.ends.filter((t) => Number.isFinite(t) && t >= t0);
  return {
    fromSend: woke.map((t) => t - t0).sort((a, b) => a - b),
    fromAck: woke.map((t) => t - tAck).sort((a, b) => a - b),
    missed: w.ends.length - woke.length - w.early(),
    early: w.early(),
    writeMs: tAck - t0,
  };
}

/** machineroom: n blocking GETs on `watched` at its current index, a settle period, then one PUT. */
export async function wakeMachineroom(port: number, n: number, settleMs: number): Promise<WakeRound> {
  const writer = new Agent({ keepAlive: true, maxSockets: 1 });
  const agent = new Agent({ keepAlive: false, maxSockets: n + 16 });
  try {
    const tag = `${process.pid}-${Date.now()}`;
    await send(writer, port, spec('PUT', '/v1/kv/watched', `before-${tag}`));
    const first = await send(writer, port, spec('GET', '/v1/kv/watched'));
    const index = Number(first.headers['x-consul-index']);
    if (!(index > 0)) throw new Error(`GET /v1/kv/watched gave no X-Consul-Index (status ${first.status})`);
    const ends = new Array<number>(n).fill(NaN);
    let flushed = 0;
    let early = 0;
    let written = false;
    const requests: ClientRequest[] = [];
    const settled = Promise.all(
      Array.from(
        { length: n },
        (_, k) =>
          new Promise<void>((resolve) => {
            const req = request({ agent, host: '127.0.0.1', port, method: 'GET', path: `/v1/kv/watched?index=${index}&wait=60s` }, (res) => {
              res.on('end', () => {
                const t = performance.now();
                if (!written) early++;
                else if (res.statusCode === 200 && Number(res.headers['x-consul-index']) > index) ends[k] = t;
                resolve();
              });
              res.on('error', () => resolve());
              res.resume();
            });
            req.on('finish', () => flushed++);
            req.on('error', () => resolve());
            req.on('close', () => resolve());
            requests.push(req);
            req.end();
          }),
      ),
    );
    await waitFor(`${n} blocking queries to be sent`, 60000, () => flushed === n || undefined);
    await send(writer, port, spec('GET', '/v1/kv/watched')); // the writer's connection is warm and not idle-closed
    await sleep(settleMs);
    const t0 = performance.now();
    written = true;
    const put = await send(writer, port, spec('PUT', '/v1/kv/watched', `after-${tag}`));
    const tAck = performance.now();
    if (put.status !== 200) throw new Error(`PUT /v1/kv/watched: status ${put.status} ${put.body}`);
    return await finishRound({ requests, ends, settled, early: () => early }, t0, tAck, agent);
  } finally {
    agent.destroy();
    writer.destroy();
  }
}

const WATCHED_B64 = Buffer.from('watched').toString('base64');

/** etcd: n watch streams on `watched` through the gateway, each confirmed (`created`), a settle period, then one put. */
export async function wakeEtcd(port: number, n: number, settleMs: number): Promise<WakeRound> {
  const writer = new Agent({ keepAlive: true, maxSockets: 1 });
  const agent = new Agent({ keepAlive: false, maxSockets: n + 16 });
  const json = { 'content-type': 'application/json' };
  try {
    const tag = `${process.pid}-${Date.now()}`;
    const putBody = (v: string): string => JSON.stringify({ key: WATCHED_B64, value: Buffer.from(v).toString('base64') });
    await send(writer, port, spec('POST', '/v3/kv/put', putBody(`before-${tag}`), json));
    const ends = new Array<number>(n).fill(NaN);
    let created = 0;
    let early = 0;
    let written = false;
    const requests: ClientRequest[] = [];
    const body = JSON.stringify({ create_request: { key: WATCHED_B64 } });
    const settled = Promise.all(
      Array.from(
        { length: n },
        (_, k) =>
          new Promise<void>((resolve) => {
            const req = request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/v3/watch', headers: { ...json, 'content-length': Buffer.byteLength(body) } }, (res) => {
              let buf = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                buf += chunk;
                for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
                  const line = buf.slice(0, nl);
                  buf = buf.slice(nl + 1);
                  if (line.includes('"events"')) {
                    const t = performance.now();
                    if (!written) early++;
                    else ends[k] = t;
                    resolve();
                    req.destroy();
                    return;
                  }
                  if (line.includes('"created":true')) created++;
                }
              });
              res.on('end', () => resolve());
              res.on('error', () => resolve());
            });
            req.on('error', () => resolve());
            req.on('close', () => resolve());
            requests.push(req);
            req.end(body);
          }),
      ),
    );
    await waitFor(`${n} etcd watches to be created`, 60000, () => created === n || undefined);
    await send(writer, port, spec('POST', '/v3/kv/range', JSON.stringify({ key: WATCHED_B64 }), json)); // warm writer connection
    await sleep(settleMs);
    const t0 = performance.now();
    written = true;
    const put = await send(writer, port, spec('POST', '/v3/kv/put', putBody(`after-${tag}`), json));
    const tAck = performance.now();
    if (put.status !== 200) throw new Error(`POST /v3/kv/put: status ${put.status} ${put.body}`);
    return await finishRound({ requests, ends, settled, early: () => early }, t0, tAck, agent);
  } finally {
    agent.destroy();
    writer.destroy();
  }
}
