// `machineroom agent`: the service bus alone (Consul-compatible HTTP API, KV, health checks, DNS), like `consul agent -dev`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MachineroomError, EXIT_OK } from '../errors/index.js';
import { isLoopbackHostname } from '../http/index.js';
import { processStartTime } from '../proc/index.js';
import type { Verb } from './args.js';
import { str } from './args.js';
import { paint, useColor } from './output.js';

function parseAddr(text: string, flagName: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new MachineroomError('ERR_USAGE', `--${flagName}: expected HOST:PORT like 127.0.0.1:8500, got "${text}"`);
  const host = m[1] ?? m[2]!;
  if (!isLoopbackHostname(host)) throw new MachineroomError('ERR_USAGE', `--${flagName}: ${host} is not a loopback address; the bus listens on loopback only`);
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

/** `agent` */
export const agentVerb: Verb = {
  name: 'agent',
  summary: 'Run the service bus alone (Consul HTTP API, KV, health checks, DNS), like `consul agent -dev`.',
  usage: 'agent [--http ADDR] [--dns ADDR] [--node NAME] [--datacenter DC] [--data-dir DIR]',
  description: 'Without --data-dir the data lives in a temporary directory removed at exit (dev mode). Ctrl-C stops it.',
  options: {
    http: { type: 'string', value: 'ADDR', description: 'HTTP API address (default 127.0.0.1:8500)' },
    dns: { type: 'string', value: 'ADDR', description: 'DNS address, UDP and TCP (default 127.0.0.1:8600)' },
    node: { type: 'string', value: 'NAME', description: "the agent's node name (default machineroom)" },
    datacenter: { type: 'string', value: 'DC', description: 'datacenter (default dc1)' },
    domain: { type: 'string', value: 'DOMAIN', description: 'DNS domain (default consul)' },
    'data-dir': { type: 'string', value: 'DIR', description: 'keep KV, sessions and registrations here across restarts' },
    'enable-script-checks': { type: 'boolean', description: 'allow checks with Args registered through the API' },
  },
  async run(args) {
    const color = useColor();
    const http = parseAddr(str(args, 'http') ?? '127.0.0.1:8500', 'http');
    const dns = parseAddr(str(args, 'dns') ?? '127.0.0.1:8600', 'dns');
    const given = str(args, 'data-dir');
    const dataDir = given ? resolve(given) : mkdtempSync(join(tmpdir(), 'machineroom-agent-'));
    const projectId = `agent-${process.pid}`;
    const entry = { pid: process.pid, startTime: processStartTime(process.pid) ?? 0, dir: dataDir, name: 'agent' };
    const { startBus, bindApiPort, createApiServer, serveHandler, checkOrigin } = await import('../daemon/index.js');
    const bus = await startBus({
      settings: {
        node: str(args, 'node') ?? 'machineroom',
        datacenter: str(args, 'datacenter') ?? 'dc1',
        domain: str(args, 'domain') ?? 'consul',
        dnsPort: dns.port,
        recursors: [],
        enableScriptChecks: args.values['enable-script-checks'] === true,
      },
      dataDir,
      address: dns.host,
      projectId,
      entry,
    });
    const server = createApiServer();
    serveHandler(server, async (req, info) => {
      const bad = checkOrigin(req);
      if (bad) return new Response(bad.message, { status: 403 });
      return bus.consul(req, info);
    });
    const port = await bindApiPort(server, { preferred: http.port, projectId, entry, host: http.host });
    process.stdout.write(
      `${paint('machineroom agent', 'bold', color)} · node ${str(args, 'node') ?? 'machineroom'} · datacenter ${str(args, 'datacenter') ?? 'dc1'}\n` +
        `  HTTP  http://${http.host}:${port}   (CONSUL_HTTP_ADDR=${http.host}:${port})\n` +
        `  DNS   ${bus.dns.address}:${bus.dns.port} (UDP and TCP)\n` +
        `  data  ${dataDir}${given ? '' : ' (removed at exit)'}\n` +
        `Ctrl-C stops it.\n`,
    );
    await new Promise<void>((r) => {
      process.once('SIGINT', r);
      process.once('SIGTERM', r);
      process.once('SIGHUP', r);
    });
    // Blocking queries may wait minutes: shutting down ends them rather than waiting them out.
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
    await bus.close();
    if (!given) rmSync(dataDir, { recursive: true, force: true });
    return EXIT_OK;
  },
};
