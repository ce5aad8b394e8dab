// The shapes ?filter selectors walk, one per kind of listed item (the Go structs Consul filters).
import type { FieldSchema } from './filter-evaluate.js';

const stringMap: FieldSchema = { map: 'string' };
const serviceAddress: FieldSchema = { struct: { Address: 'string', Port: 'number' } };
const weights: FieldSchema = { struct: { Passing: 'number', Warning: 'number' } };
const proxy: FieldSchema = {
  struct: { DestinationServiceName: 'string', DestinationServiceID: 'string', LocalServiceAddress: 'string', LocalServicePort: 'number', Mode: 'string' },
};
const connect: FieldSchema = { struct: { Native: 'bool' } };

/** A node (catalog/nodes, the Node of health/service). */
export const NODE_SCHEMA: FieldSchema = {
  struct: { ID: 'string', Node: 'string', Address: 'string', Datacenter: 'string', TaggedAddresses: stringMap, Meta: stringMap },
};

const nodeServiceFields: Record<string, FieldSchema> = {
  Kind: 'string',
  ID: 'string',
  Service: 'string',
  Tags: { list: 'string' },
  Address: 'string',
  TaggedAddresses: { map: serviceAddress },
  Meta: stringMap,
  Port: 'number',
  SocketPath: 'string',
  Weights: weights,
  EnableTagOverride: 'bool',
  Proxy: proxy,
  Connect: connect,
  PeerName: 'string',
};

/** A service on a node (catalog/node services, the Service of health/service). */
export const NODE_SERVICE_SCHEMA: FieldSchema = { struct: nodeServiceFields };

/** An agent service (agent/services). */
export const AGENT_SERVICE_SCHEMA: FieldSchema = { struct: { ...nodeServiceFields, Datacenter: 'string' } };

/** A health check (agent/checks, health/node, health/checks, health/state, the Checks of health/service). */
export const HEALTH_CHECK_SCHEMA: FieldSchema = {
  struct: {
    Node: 'string',
    CheckID: 'string',
    Name: 'string',
    Status: 'string',
    Notes: 'string',
    Output: 'string',
    ServiceID: 'string',
    ServiceName: 'string',
    ServiceTags: { list: 'string' },
    Type: 'string',
    Interval: 'string',
    Timeout: 'string',
    ExposedPort: 'number',
    Definition: {
      struct: {
        HTTP: 'string',
        TLSServerName: 'string',
        TLSSkipVerify: 'bool',
        Header: { map: { list: 'string' } },
        Method: 'string',
        Body: 'string',
        TCP: 'string',
        Interval: 'string',
        Timeout: 'string',
        DeregisterCriticalServiceAfter: 'string',
        ScriptArgs: { list: 'string' },
      },
    },
  },
};

/** A catalog service instance (catalog/service/:name, and catalog/services per instance). */
export const CATALOG_SERVICE_SCHEMA: FieldSchema = {
  struct: {
    ID: 'string',
    Node: 'string',
    Address: 'string',
    Datacenter: 'string',
    TaggedAddresses: stringMap,
    NodeMeta: stringMap,
    ServiceKind: 'string',
    ServiceID: 'string',
    ServiceName: 'string',
    ServiceTags: { list: 'string' },
    ServiceAddress: 'string',
    ServiceTaggedAddresses: { map: serviceAddress },
    ServiceWeights: weights,
    ServiceMeta: stringMap,
    ServicePort: 'number',
    ServiceSocketPath: 'string',
    ServiceEnableTagOverride: 'bool',
    ServiceProxy: proxy,
    ServiceConnect: connect,
  },
};

/** A health/service entry. */
export const SERVICE_ENTRY_SCHEMA: FieldSchema = {
  struct: { Node: NODE_SCHEMA, Service: NODE_SERVICE_SCHEMA, Checks: { list: HEALTH_CHECK_SCHEMA } },
};
