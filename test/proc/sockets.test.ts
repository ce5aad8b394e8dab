import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  canonicalizeAddress,
  decodeProcNetAddress,
  findPortHolder,
  formatIPv6,
  isWildcardAddress,
  listListeningSockets,
  listeningSocketsOf,
  parseListeningSockets,
  socketInodesOf,
} from '../../src/proc/index.js';
import type { ListeningSocket } from '../../src/proc/index.js';
import { createProcessTracker, readFirstLine, spawnNode, waitFor, waitForExit } from './support.js';

const tracker = createProcessTracker();
after(() => tracker.killAll());

const NEVER_A_PID = 2 ** 22 + 1;

// Listens on $MR_TEST_HOST port 0 and prints the address (or the bind error) as one JSON line.
const SERVER_SCRIPT = `
const server = require('node:net').createServer();
server.on('error', (err) => { console.log(JSON.stringify({ error: err.code })); process.exit(0); });
server.listen(0, process.env.MR_TEST_HOST, () => console.log(JSON.stringify(server.address())));
setInterval(() => {}, 1 << 30);
`;

interface Server {
  pid: number;
  host: string;
  address: string;
  port: number;
  family: string;
}

async function startServer(host: string): Promise<Server | { error: string }> {
  const child = spawnNode(tracker, SERVER_SCRIPT, { env: { ...process.env, MR_TEST_HOST: host } });
  const info = JSON.parse(await readFirstLine(child)) as { error?: string; address: string; port: number; family: string };
  if (info.error) return { error: info.error };
  return { pid: child.pid as number, host, address: info.address, port: info.port, family: info.family };
}

test('decodeProcNetAddress decodes both byte orders', () => {
  assert.equal(decodeProcNetAddress('0100007F', 'LE'), '127.0.0.1');
  assert.equal(decodeProcNetAddress('7F000001', 'BE'), '127.0.0.1');
  assert.equal(decodeProcNetAddress('0501007F', 'LE'), '127.0.1.5');
  assert.equal(decodeProcNetAddress('00000000', 'LE'), '0.0.0.0');
  assert.equal(decodeProcNetAddress('00000000000000000000000001000000', 'LE'), '::1');
  assert.equal(decodeProcNetAddress('00000000000000000000000000000001', 'BE'), '::1');
  assert.equal(decodeProcNetAddress('00000000000000000000000000000000', 'LE'), '::');
  assert.equal(decodeProcNetAddress('0000000000000000FFFF00000100007F', 'LE'), '::ffff:127.0.0.1');
  assert.equal(decodeProcNetAddress('00000000000000000000FFFF7F000001', 'BE'), '::ffff:127.0.0.1');
  assert.equal(decodeProcNetAddress('B80D0120000000000000000001000000', 'LE'), '2001:db8::1');
  assert.equal(decodeProcNetAddress('20010DB8000000000000000000000001', 'BE'), '2001:db8::1');
  assert.equal(decodeProcNetAddress('zz', 'LE'), undefined);
  assert.equal(decodeProcNetAddress('0100007', 'LE'), undefined);
});

test('formatIPv6, canonicalizeAddress and isWildcardAddress follow RFC 5952', () => {
  const bytes = (...groups: number[]): Uint8Array => new Uint8Array(groups.flatMap((g) => [g >> 8, g & 0xff]));
  assert.equal(formatIPv6(bytes(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1)), '2001:db8::1:0:0:1');
  assert.equal(formatIPv6(bytes(1, 0, 2, 3, 4, 5, 6, 7)), '1:0:2:3:4:5:6:7', 'a single zero group is not compressed');
  assert.equal(formatIPv6(bytes(0xfe80, 0, 0, 0, 0, 0, 0, 0)), 'fe80::');
  assert.equal(formatIPv6(bytes(0, 0, 0, 0, 0, 0, 0x102, 0x304)), '::102:304');
  assert.equal(canonicalizeAddress('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(canonicalizeAddress('::FFFF:127.0.0.1'), '127.0.0.1');
  assert.equal(canonicalizeAddress('::ffff:7f00:1'), '127.0.0.1');
  assert.equal(canonicalizeAddress('fe80::1%lo'), 'fe80::1');
  assert.equal(canonicalizeAddress('10.1.2.3'), '10.1.2.3');
  assert.equal(canonicalizeAddress('localhost'), undefined);
  for (const wildcard of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '::ffff:0.0.0.0']) assert.equal(isWildcardAddress(wildcard), true, wildcard);
  for (const specific of ['127.0.0.1', '::1', '::ffff:127.0.0.1', 'nonsense']) assert.equal(isWildcardAddress(specific), false, specific);
});

test('parseListeningSockets keeps only LISTEN rows', () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0',
    '   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 100 0 0 10 0',
    '   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0000000000000000 20 4 30 10 -1',
    '',
  ].join('\n');
  assert.deepEqual(parseListeningSockets(tcp, 'IPv4', 'LE'), [
    { family: 'IPv4', address: '127.0.0.1', port: 8080, inode: 4242, isWildcard: false },
    { family: 'IPv4', address: '0.0.0.0', port: 80, inode: 4343, isWildcard: true },
  ] satisfies ListeningSocket[]);
  const tcp6 = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5000 1 0000000000000000 100 0 0 10 0',
  ].join('\n');
  assert.deepEqual(parseListeningSockets(tcp6, 'IPv6', 'LE'), [{ family: 'IPv6', address: '::', port: 8080, inode: 5000, isWildcard: true }]);
  assert.deepEqual(parseListeningSockets('', 'IPv4'), []);
});

test('listeningSocketsOf sees a server in this very process', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const mine = listeningSocketsOf([process.pid]).filter((s) => s.port === port);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]?.address, '127.0.0.1');
    assert.equal(mine[0]?.pid, process.pid);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('real servers on specific, loopback-alias, wildcard and IPv6 addresses are found and attributed', async (t) => {
  const alias = `127.0.1.${2 + (process.pid % 250)}`;
  const hosts = ['127.0.0.1', alias, '0.0.0.0', '::1', '::', '::ffff:127.0.0.1'];
  const started = await Promise.all(hosts.map(startServer));
  const servers: Server[] = [];
  started.forEach((result, i) => {
    if ('error' in result) t.diagnostic(`skipping ${hosts[i]}: cannot bind (${result.error})`);
    else servers.push(result);
  });
  assert.ok(servers.some((s) => s.host === '127.0.0.1') && servers.some((s) => s.host === alias) && servers.some((s) => s.host === '0.0.0.0'), 'IPv4 binds must work');

  const all = listListeningSockets();
  for (const server of servers) {
    await t.test(`${server.host} port ${server.port}`, () => {
      const expectedFamily = server.host.includes(':') ? 'IPv6' : 'IPv4';
      const matches = all.filter((s) => s.port === server.port && s.family === expectedFamily);
      assert.equal(matches.length, 1, `one listening socket for ${server.host}:${server.port}`);
      const socket = matches[0] as ListeningSocket;
      assert.equal(socket.address, server.address, 'rendered as Node renders it');
      assert.equal(socket.isWildcard, server.host === '0.0.0.0' || server.host === '::');
      assert.ok(socketInodesOf(server.pid).has(socket.inode), 'the server holds the socket inode');

      const holder = findPortHolder(server.port);
      assert.ok(holder, 'findPortHolder finds it');
      assert.equal(holder.pid, server.pid);
      assert.equal(holder.comm, 'node');
      assert.equal(holder.cmdline[0], process.execPath);
      assert.equal(holder.cmdline[1], '-e');
      assert.equal(findPortHolder(server.port, server.host)?.pid, server.pid, 'found by its own address');
    });
  }

  const byPid = listeningSocketsOf(servers.map((s) => s.pid));
  for (const server of servers) {
    const own = byPid.filter((s) => s.pid === server.pid);
    assert.deepEqual(
      own.map((s) => [s.address, s.port]),
      [[server.address, server.port]],
      `exactly the one socket of ${server.host}`,
    );
  }

  const wildcard4 = servers.find((s) => s.host === '0.0.0.0');
  assert.equal(findPortHolder(wildcard4?.port ?? 0, '127.0.0.1')?.pid, wildcard4?.pid, '0.0.0.0 covers 127.0.0.1');
  assert.equal(findPortHolder(wildcard4?.port ?? 0, '::1'), undefined, '0.0.0.0 does not cover ::1');
  const aliased = servers.find((s) => s.host === alias);
  assert.equal(findPortHolder(aliased?.port ?? 0, '127.0.0.1'), undefined, `${alias} does not hold 127.0.0.1`);
  const mapped = servers.find((s) => s.host === '::ffff:127.0.0.1');
  if (mapped) assert.equal(findPortHolder(mapped.port, '127.0.0.1')?.pid, mapped.pid, 'an IPv4-mapped bind holds the IPv4 address');
  const wildcard6 = servers.find((s) => s.host === '::');
  if (wildcard6) assert.equal(findPortHolder(wildcard6.port, '127.0.0.1')?.pid, wildcard6.pid, ':: is dual-stack by default');
  assert.equal(findPortHolder(wildcard4?.port ?? 0, 'not-an-address'), undefined);
});

test('a port frees up when its holder exits, and gone processes hold no sockets', async () => {
  const child = spawnNode(tracker, SERVER_SCRIPT, { env: { ...process.env, MR_TEST_HOST: '127.0.0.1' } });
  const { port } = JSON.parse(await readFirstLine(child)) as { port: number };
  assert.equal(findPortHolder(port)?.pid, child.pid);
  child.kill('SIGKILL');
  await waitForExit(child);
  await waitFor('the port to be free', () => findPortHolder(port) === undefined);
  assert.equal(socketInodesOf(child.pid as number).size, 0);
  assert.equal(socketInodesOf(NEVER_A_PID).size, 0);
  assert.deepEqual(listeningSocketsOf([child.pid as number, NEVER_A_PID]), []);
});
