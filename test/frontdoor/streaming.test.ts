// Streams through the front door: a WebSocket echo (handshake by hand), SSE events as they happen, 50 MB both ways unbuffered.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHarness } from './support.js';
import type { Harness } from './support.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const SIZE = 50 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

let h: Harness;
let port: number;
let bigPort: number;

/** Encodes one WebSocket text frame; client frames are masked. */
function frame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text);
  const mask = masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0);
  const head = Buffer.from([0x81, (masked ? 0x80 : 0) | payload.length]);
  const body = Buffer.from(payload.map((b, i) => (masked ? b ^ mask[i % 4]! : b)));
  return Buffer.concat([head, mask, body]);
}

/** Decodes one small frame (payload < 126 bytes). */
function unframe(buf: Buffer): string {
  const masked = (buf[1]! & 0x80) !== 0;
  const len = buf[1]! & 0x7f;
  const mask = masked ? buf.subarray(2, 6) : undefined;
  const data = buf.subarray(masked ? 6 : 2, (masked ? 6 : 2) + len);
  return Buffer.from(data.map((b, i) => (mask ? b ^ mask[i % 4]! : b))).toString();
}

before(async () => {
  h = createHarness();
  const ws = await h.startBackend('ws-1');
  ws.server.on('test-upgrade', (req: IncomingMessage, socket: Duplex) => {
    const accept = createHash('sha1').update(String(req.headers['sec-websocket-key']) + WS_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Seen-Forwarded-For: ${String(req.headers['x-forwarded-for'])}\r\n\r\n`);
    socket.on('data', (d: Buffer) => socket.write(frame(`echo:${unframe(d)}`, false)));
  });
  h.register('ws', ws);
  const sse = await h.startBackend('sse-1', (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    let n = 0;
    const tick = setInterval(() => {
      n++;
      res.write(`data: tick ${n}\n\n`);
      if (n === 3) {
        clearInterval(tick);
        res.end();
      }
    }, 100);
    res.on('close', () => clearInterval(tick));
  });
  h.register('sse', sse);
  const big = await h.startBackend('big-1', (req, res) => {
    if (req.method === 'POST') {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => res.end(String(bytes)));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
    let left = SIZE;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  h.register('big', big);
  bigPort = big.port;
  ({ port } = await h.startFrontDoor());
});
after(() => h.closeAll());

test('a WebSocket echo passes through', async () => {
  const key = Buffer.from('0123456789abcdef').toString('base64');
  const socket = await new Promise<Duplex>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/chat', headers: { host: 'ws.localhost', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': key, 'sec-websocket-version': '13' } });
    req.on('upgrade', (res: IncomingMessage, sock: Duplex) => {
      assert.equal(res.headers['sec-websocket-accept'], createHash('sha1').update(key + WS_GUID).digest('base64'));
      assert.equal(res.headers['x-seen-forwarded-for'], '127.0.0.1');
      resolve(sock);
    });
    req.on('response', () => reject(new Error('expected an upgrade')));
    req.on('error', reject);
    req.end();
  });
  for (const word of ['hello', 'world']) {
    const reply = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(unframe(d))));
    socket.write(frame(word, true));
    assert.equal(await reply, `echo:${word}`);
  }
  socket.destroy();
});

test('SSE events arrive one by one, not buffered to the end', async () => {
  const arrivals: string[] = [];
  let headersAt = 0;
  let firstAt = 0;
  let endAt = 0;
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/events', headers: { host: 'sse.localhost', accept: 'text/event-stream' } }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream');
      headersAt = Date.now();
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (!firstAt) firstAt = Date.now();
        arrivals.push(c);
      });
      res.on('end', () => {
        endAt = Date.now();
        resolve();
      });
    });
    req.on('error', reject);
    req.end();
  });
  assert.ok(headersAt > 0);
  assert.equal(arrivals.join(''), 'data: tick 1\n\ndata: tick 2\n\ndata: tick 3\n\n');
  // Each event arrived as its own chunk: the proxy did not collect them.
  assert.equal(arrivals.length, 3);
  assert.ok(firstAt < endAt);
});

/** Starts the proxy child and waits for its first IPC message. */
async function startProxyChild(backendPort: number): Promise<{ child: ChildProcess; port: number; ask: (msg: string) => Promise<Record<string, number>> }> {
  const script = fileURLToPath(new URL('./fixtures/proxy-child.js', import.meta.url));
  const child = fork(script, [String(backendPort)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (msg: string): Promise<Record<string, number>> =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m as Record<string, number>));
      child.send(msg);
    });
  const first = await new Promise<Record<string, number>>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, number>));
    child.once('exit', (code) => reject(new Error(`proxy child exited with ${code}`)));
  });
  return { child, port: first.port!, ask };
}

test('50 MB upload and download stream through a proxy process whose heap grows < 20 MB', async () => {
  const proxy = await startProxyChild(bigPort);
  try {
    await proxy.ask('reset');
    const uploaded = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/up', headers: { host: 'big.localhost', 'content-type': 'application/octet-stream' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      let left = SIZE;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, CHUNK.length);
          left -= n;
          if (!req.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(uploaded, String(SIZE));
    const downloaded = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, path: '/down', headers: { host: 'big.localhost' } }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve(bytes));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(downloaded, SIZE);
    const { base, peak } = await proxy.ask('peak');
    const grew = peak! - base!;
    assert.ok(grew < 20 * 1024 * 1024, `proxy heap+arrayBuffers grew by ${(grew / 1048576).toFixed(1)} MB`);
  } finally {
    const exited = new Promise((r) => proxy.child.once('exit', r));
    proxy.child.send('exit');
    await exited;
  }
});
