// Consul-shaped catalog records, so the Consul-compatible API (a later issue) serves them as they are.

/** A check's status, as Consul spells it. */
export type CheckStatus = 'passing' | 'warning' | 'critical';

/** Raft-like indexes every record carries. */
export interface RaftIndex {
  CreateIndex: number;
  ModifyIndex: number;
}

/** A node: one simulated machine (or the agent itself). */
export interface CatalogNode extends RaftIndex {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  Meta: Record<string, string>;
}

/** One registered service instance. */
export interface CatalogService extends RaftIndex {
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  Node: string;
  Weights: { Passing: number; Warning: number };
  /** Who registered it: the supervisor owns its instances; the API owns the rest (persisted in a later issue). */
  Owner: 'supervisor' | 'api';
}

/** A health check, on a node or on a service instance. */
export interface HealthCheck extends RaftIndex {
  Node: string;
  CheckID: string;
  Name: string;
  Status: CheckStatus;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
}

/** What changed in the store, for watchers. */
export type StoreChange =
  | { kind: 'node'; op: 'set' | 'delete'; node: string; index: number }
  | { kind: 'service'; op: 'set' | 'delete'; service: CatalogService; index: number }
  | { kind: 'check'; op: 'set' | 'delete'; check: HealthCheck; previous?: CheckStatus; index: number };
