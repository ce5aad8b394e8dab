// The agent as a single Consul server: a stable node ID, its node with the serfHealth check and the "consul" service
// (as a real server has them), and the agent/self and agent/members documents.
import { createHash } from 'node:crypto';
import type { BusStore } from '../index.js';
import type { AgentIdentity } from './api-context.js';

/** The Raft port a Consul server advertises (status/leader, the "consul" service). */
export const SERVER_PORT = 8300;
/** The Serf LAN port (agent/members). */
export const SERF_LAN_PORT = 8301;
/** The Serf WAN port (agent/members?wan). */
export const SERF_WAN_PORT = 8302;

/** Consul's minimum session TTL, reported in agent/self (patroni reads it). */
export const SESSION_TTL_MIN = '10s';

/** A UUID derived from the node name, so it stays the same across restarts. */
export function nodeIdOf(nodeName: string): string {
  const h = createHash('sha256').update(`machineroom-node:${nodeName}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Registers the agent's node (with its ID), its passing serfHealth check and the "consul" service on port 8300. */
export function registerAgentNode(store: BusStore, agent: AgentIdentity, nodeId: string): void {
  const existing = store.node(agent.nodeName);
  store.registerNode({
    Node: agent.nodeName,
    Address: agent.address,
    ID: nodeId,
    Meta: { 'consul-network-segment': '', 'consul-version': agent.version, ...(existing?.Meta ?? {}) },
  });
  store.registerCheck({
    Node: agent.nodeName,
    CheckID: 'serfHealth',
    Name: 'Serf Health Status',
    Status: 'passing',
    Output: 'Agent alive and reachable',
    ServiceID: '',
    ServiceName: '',
    Type: '',
  });
  store.registerService({
    ID: 'consul',
    Service: 'consul',
    Tags: [],
    Address: '',
    Port: SERVER_PORT,
    Meta: {
      non_voter: 'false',
      raft_version: '3',
      read_replica: 'false',
      serf_protocol_current: '2',
      serf_protocol_max: '5',
      serf_protocol_min: '1',
      version: agent.version,
    },
    Node: agent.nodeName,
    Owner: 'api',
  });
}

/** The agent as a Serf member (alive server). */
export function renderMember(agent: AgentIdentity, nodeId: string, wan = false) {
  return {
    Name: wan ? `${agent.nodeName}.${agent.datacenter}` : agent.nodeName,
    Addr: agent.address,
    Port: wan ? SERF_WAN_PORT : SERF_LAN_PORT,
    Tags: {
      acls: '0',
      build: `${agent.version}:machineroom`,
      dc: agent.datacenter,
      expect: '1',
      ft_fs: '1',
      ft_si: '1',
      grpc_port: '8502',
      id: nodeId,
      port: String(SERVER_PORT),
      raft_vsn: '3',
      role: 'consul',
      segment: '',
      vsn: '2',
      vsn_max: '3',
      vsn_min: '2',
      wan_join_port: String(SERF_WAN_PORT),
    },
    Status: 1,
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
  };
}

/** agent/self: Config, a DebugConfig subset, Coord, Member, Stats, Meta. */
export function renderSelf(agent: AgentIdentity, nodeId: string, scriptChecks: boolean) {
  return {
    Config: {
      Datacenter: agent.datacenter,
      PrimaryDatacenter: agent.datacenter,
      NodeName: agent.nodeName,
      NodeID: nodeId,
      Revision: 'machineroom',
      Server: true,
      Version: agent.version,
      BuildDate: '1970-01-01T00:00:01Z',
      SessionTTLMin: SESSION_TTL_MIN,
    },
    DebugConfig: {
      Datacenter: agent.datacenter,
      PrimaryDatacenter: agent.datacenter,
      NodeName: agent.nodeName,
      NodeID: nodeId,
      ServerMode: true,
      Bootstrap: true,
      Revision: 'machineroom',
      Version: agent.version,
      AdvertiseAddrLAN: agent.address,
      BindAddr: agent.address,
      DNSDomain: 'consul.',
      EnableRemoteScriptChecks: scriptChecks,
      EnableLocalScriptChecks: scriptChecks,
      SessionTTLMin: SESSION_TTL_MIN,
      KVMaxValueSize: 524288,
      TxnMaxReqLen: 524288,
      ACLsEnabled: false,
    },
    Coord: { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 },
    Member: renderMember(agent, nodeId),
    Stats: { agent: { check_monitors: '0', check_ttls: '0', checks: '0', services: '0' }, consul: { server: 'true', leader: 'true', bootstrap: 'true', known_datacenters: '1' } },
    Meta: { 'consul-network-segment': '', 'consul-version': agent.version },
  };
}
