// Binds UDP and TCP on one port: UDP first (port 0 lets the kernel pick), then TCP on the port UDP got, trying
// again with a fresh UDP port when that TCP port is taken.
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { Server } from 'node:net';
import { MachineroomError } from '../errors/index.js';

/** The bound pair. */
export interface DnsSockets {
  udp: UdpSocket;
  tcp: Server;
  port: number;
}

/**
 * Replies only ever go to the address a datagram came from, an IP literal: skipping dns.lookup (and the tick
 * it defers each send by) is a measurable share of the cost of a UDP answer.
 */
function lookupLiteral(address: string, options: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(address);
  if (family) callback(null, address, family);
  else lookup(address, typeof options === 'number' ? options : 0, callback); // a hostname given as the host to bind
}

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', lookup: lookupLiteral });
    const onError = (err: Error): void => {
      sock.close();
      reject(err);
    };
    sock.once('error', onError);
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

/** Tries a larger socket receive buffer so bursts are queued rather than dropped (the kernel may cap it). */
function enlargeBuffers(sock: UdpSocket): void {
  try {
    sock.setRecvBufferSize(4 * 1024 * 1024);
    sock.setSendBufferSize(4 * 1024 * 1024);
  } catch {
    /* kept at the kernel default */
  }
}

/** Binds UDP and TCP on `host:port` (port 0: any port free for both); `createTcp` makes the TCP server to listen with. */
export async function bindDnsPorts(host: string, port: number, createTcp: () => Server, tries = 8): Promise<DnsSockets> {
  let lastError: unknown;
  for (let attempt = 0; attempt < (port === 0 ? tries : 1); attempt++) {
    let udp: UdpSocket;
    try {
      udp = await bindUdp(host, port);
    } catch (err) {
      lastError = err;
      if (port === 0) continue;
      break;
    }
    const actual = udp.address().port;
    const server = createTcp();
    try {
      await listenTcp(server, host, actual);
    } catch (err) {
      udp.close();
      server.close(() => {});
      lastError = err;
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && port === 0) continue;
      break;
    }
    enlargeBuffers(udp);
    return { udp, tcp: server, port: actual };
  }
  const code = (lastError as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    throw new MachineroomError('ERR_PORT_IN_USE', `dns: ${host}:${port} is in use over UDP or TCP; pick another DNS port or stop what holds it`, { cause: lastError });
  }
  if (code === 'EADDRNOTAVAIL') {
    throw new MachineroomError('ERR_NO_ADDRESS', `dns: cannot bind ${host}: no such local address; use 127.0.0.1 or an address of this machine`, { cause: lastError });
  }
  throw new MachineroomError('ERR_INTERNAL', `dns: cannot bind UDP and TCP on ${host}:${port}: ${(lastError as Error | undefined)?.message ?? 'unknown error'}`, { cause: lastError });
}
