// Registration delay: how long after a TTL check is passed (`PUT /v1/agent/check/pass/service:ID`) a blocking health
// query (`/v1/health/service/NAME?passing&index=N`) returns the now-passing instance, as a front door watching would see.
import { Agent } from 'node:http';
import { send, spec } from './bus-http.js';
import { sleep } from './bus-procs.js';

/** Per repetition, ms from just before the pass was sent, and ms from its acknowledgement, to the passing answer. */
export interface RegistrationDelays {
  fromSend: number[];
  fromAck: number[];
  /** Repetitions where the blocking query answered without the instance first and had to be re-issued. */
  reissued: number;
}

/** Pause after the blocking query was handed to the kernel, so the server has parked it before the pass. */
const PARK_MS = 20;

/** Registers `reps` services one at a time, each with a TTL check, and times pass → passing answer. */
export async function measureRegistration(port: number, reps: number): Promise<RegistrationDelays> {
  const ctl = new Agent({ keepAlive: true, maxSockets: 1 });
  const watcher = new Agent({ keepAlive: true, maxSockets: 1 });
  const out: RegistrationDelays = { fromSend: [], fromAck: [], reissued: 0 };
  try {
    for (let k = 0; k < reps; k++) {
      const name = `regbench${k}`;
      const id = `${name}-1`;
      const reg = await send(ctl, port, spec('PUT', '/v1/agent/service/register', JSON.stringify({ Name: name, ID: id, Address: '127.0.0.2', Port: 8080, Check: { TTL: '30s' } })));
      if (reg.status !== 200) throw new Error(`register ${name}: status ${reg.status} ${reg.body}`);
      const before = await send(watcher, port, spec('GET', `/v1/health/service/${name}?passing`));
      let index = Number(before.headers['x-consul-index']);
      if (before.body.trim() !== '[]') throw new Error(`${name} is already passing before its check was passed: ${before.body}`);
      let blocking = send(watcher, port, spec('GET', `/v1/health/service/${name}?passing&index=${index}&wait=30s`), 40000);
      await sleep(PARK_MS);
      const t0 = performance.now();
      const pass = await send(ctl, port, spec('PUT', `/v1/agent/check/pass/service:${id}`));
      const tAck = performance.now();
      if (pass.status !== 200) throw new Error(`pass service:${id}: status ${pass.status} ${pass.body}`);
      for (let tries = 0; ; tries++) {
        const reply = await blocking;
        const t = performance.now();
        if (reply.status === 200 && (JSON.parse(reply.body) as unknown[]).length > 0) {
          out.fromSend.push(t - t0);
          out.fromAck.push(t - tAck);
          break;
        }
        if (tries >= 20) throw new Error(`${name}: the blocking query never returned the passing instance (last: ${reply.status} ${reply.body})`);
        if (tries === 0) out.reissued++;
        index = Number(reply.headers['x-consul-index']);
        blocking = send(watcher, port, spec('GET', `/v1/health/service/${name}?passing&index=${index}&wait=30s`), 40000);
      }
      await send(ctl, port, spec('PUT', `/v1/agent/service/deregister/${id}`));
    }
  } finally {
    ctl.destroy();
    watcher.destroy();
  }
  out.fromSend.sort((a, b) => a - b);
  out.fromAck.sort((a, b) => a - b);
  return out;
}
