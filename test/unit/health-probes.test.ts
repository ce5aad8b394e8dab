// Unit: the http, tcp and cmd probes against real servers and real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import { probeCmd, probeHttp, probeTcp } from '../../src/health/index.js';

/** An HTTP server on 127.0.0.1:0; the returned close() also drops open connections. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port that was free a moment ago and has nothing listening on it now. */
async function closedPort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const replying = (status: number, body: string) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
};

test('probeHttp: 200 is passing, with the body in the output', async () => {
  const srv = await serve(replying(200, 'all good\n'));
  try {
    const r = await probeHttp(`${srv.url}/health`, 5000);
    assert.equal(r.status, 'passing');
    assert.match(r.output, /200/);
    assert.match(r.output, /all good/);
    assert.ok(r.output.includes(`${srv.url}/health`), r.output);
  } finally {
    await srv.close();
  }
});

test('probeHttp: other 2xx codes pass too', async () => {
  const srv = await serve(replying(204, ''));
  try {
    assert.equal((await probeHttp(srv.url + '/', 5000)).status, 'passing');
  } finally {
    await srv.close();
  }
});

test('probeHttp: 429 is warning', async () => {
  const srv = await serve(replying(429, 'slow down'));
  try {
    const r = await probeHttp(srv.url + '/', 5000);
    assert.equal(r.status, 'warning');
    assert.match(r.output, /429/);
  } finally {
    await srv.close();
  }
});

test('probeHttp: 500 and 404 are critical', async () => {
  const srv = await serve((req, res) => replying(req.url === '/missing' ? 404 : 500, 'boom')(req, res));
  try {
    const r = await probeHttp(srv.url + '/', 5000);
    assert.equal(r.status, 'critical');
    assert.match(r.output, /500/);
    assert.match(r.output, /boom/);
    assert.equal((await probeHttp(srv.url + '/missing', 5000)).status, 'critical');
  } finally {
    await srv.close();
  }
});

test('probeHttp: a huge body is clipped in the output', async () => {
  const srv = await serve(replying(200, 'z'.repeat(100_000)));
  try {
    const r = await probeHttp(srv.url + '/', 5000);
    assert.equal(r.status, 'passing');
    assert.ok(r.output.length < 10_000, `output is ${r.output.length} chars`);
  } finally {
    await srv.close();
  }
});

test('probeHttp: connection refused on a closed port is critical', async () => {
  const port = await closedPort();
  const r = await probeHttp(`http://127.0.0.1:${port}/`, 5000);
  assert.equal(r.status, 'critical');
  assert.match(r.output, /ECONNREFUSED/);
});

test('probeHttp: a server that never answers is critical, "timed out"', async () => {
  const srv = await serve(() => {
    /* never answers */
  });
  try {
    const r = await probeHttp(srv.url + '/', 200);
    assert.equal(r.status, 'critical');
    assert.match(r.output, /timed out/);
  } finally {
    await srv.close();
  }
});

test('probeTcp: an open port passes, a closed port is critical', async () => {
  const sockets = new Set<Socket>();
  const srv: TcpServer = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const port = (srv.address() as AddressInfo).port;
    const open = await probeTcp('127.0.0.1', port, 5000);
    assert.equal(open.status, 'passing');
    assert.match(open.output, new RegExp(`127\\.0\\.0\\.1:${port}`));
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }
  const closed = await probeTcp('127.0.0.1', await closedPort(), 5000);
  assert.equal(closed.status, 'critical');
  assert.match(closed.output, /ECONNREFUSED/);
});

const cmdOpts = (timeoutMs = 10_000) => ({ env: process.env, cwd: process.cwd(), timeoutMs });

test('probeCmd: exit 0 passing (with its output), exit 1 warning, exit 2 critical', async () => {
  const ok = await probeCmd(['/bin/sh', '-c', 'echo fine'], cmdOpts());
  assert.deepEqual(ok, { status: 'passing', output: 'fine' });
  const warn = await probeCmd(['/bin/sh', '-c', 'echo meh >&2; exit 1'], cmdOpts());
  assert.deepEqual(warn, { status: 'warning', output: 'meh' });
  const crit = await probeCmd(['/bin/sh', '-c', 'exit 2'], cmdOpts());
  assert.equal(crit.status, 'critical');
  assert.match(crit.output, /exit 2/);
});

test('probeCmd: the instance env and cwd reach the command', async () => {
  const r = await probeCmd(['/bin/sh', '-c', 'echo "$PROBE_VALUE $(pwd)"'], { env: { ...process.env, PROBE_VALUE: 'v42' }, cwd: '/tmp', timeoutMs: 10_000 });
  assert.equal(r.status, 'passing');
  assert.equal(r.output, 'v42 /tmp');
});

test('probeCmd: a missing program or an empty argv is critical, not a throw', async () => {
  const missing = await probeCmd(['/nonexistent/machineroom-probe'], cmdOpts());
  assert.equal(missing.status, 'critical');
  assert.match(missing.output, /ENOENT/);
  assert.equal((await probeCmd([], cmdOpts())).status, 'critical');
});

test('probeCmd: a command that sleeps past the timeout is killed, with its children, and reported "timed out"', async () => {
  // The grandchild writes its pid first, so the test can check it died with the group.
  const r = await probeCmd(['/bin/sh', '-c', 'sleep 30 & echo $!; wait'], cmdOpts(300));
  assert.equal(r.status, 'critical');
  assert.match(r.output, /timed out/);
  const pid = Number(/(\d+)\s*$/.exec(r.output)?.[1]);
  assert.ok(pid > 0, `pid in output: ${r.output}`);
  // A zombie waiting for a reaper counts as dead.
  const alive = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 10_000;
  while (alive() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  try {
    assert.equal(alive(), false, `sleep ${pid} outlived the timed-out check`);
  } finally {
    if (alive()) process.kill(pid, 'SIGKILL');
  }
});
