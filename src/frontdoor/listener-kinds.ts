// What a front door listener serves, and the servers that do it (the same in the daemon and in proxy workers).
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import type { Server as NetServer } from 'node:net';
import type { SecureContext, Server as TlsServer } from 'node:tls';
import type { FrontDoorCore } from './core.js';

/** A listener: routing by Host (http/https), or one service's address (http or tcp). */
export interface ListenerSpec {
  /** Stable name, e.g. "http4", "https6", "svc:web". */
  id: string;
  kind: 'http' | 'https' | 'tcp';
  /** A service address: everything goes to this service. */
  service?: string;
}

/** TLS for https listeners: per-name certificates by SNI, and one for clients that send no name. */
export interface TlsContexts {
  SNICallback(servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void;
  /** Installs the certificate for clients that send no server name (localhost, 127.0.0.1, ::1) once it exists. */
  attach(server: TlsServer): void;
}

/** Keep-alive to clients: long enough for browsers and load tools, shorter than typical upstream timeouts. */
const KEEP_ALIVE_MS = 5000;

/** A server (not yet listening) that hands a listener's traffic to the core. */
export function createListenerServer(spec: ListenerSpec, core: FrontDoorCore, tls?: TlsContexts): NetServer {
  if (spec.kind === 'tcp') {
    const service = spec.service ?? '';
    return createTcpServer({ pauseOnConnect: true }, (socket) => core.handleTcp(service, socket));
  }
  let server: HttpServer;
  if (spec.kind === 'https') {
    if (!tls) throw new Error(`listener ${spec.id}: https needs TLS contexts`);
    // Clients without SNI (IP literals) get the default certificate.
    const https = createHttpsServer({ SNICallback: (name, cb) => tls.SNICallback(name, cb), noDelay: true });
    tls.attach(https);
    server = https as unknown as HttpServer;
  } else {
    server = createHttpServer({ noDelay: true });
  }
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  const service = spec.service;
  if (service === undefined) {
    server.on('request', (req, res) => core.handleRequest(req, res));
    server.on('upgrade', (req, socket, head) => core.handleUpgrade(req, socket, head));
  } else {
    server.on('request', (req, res) => core.handleServiceRequest(service, req, res));
    server.on('upgrade', (req, socket, head) => core.handleServiceUpgrade(service, req, socket, head));
  }
  return server;
}
