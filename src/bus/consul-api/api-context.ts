// What every endpoint of the Consul API shares: its dependencies, the agent's identity, table indexes, the details the
// catalog store does not keep (tagged addresses, check definitions), and the queue that orders registrations.
import type { BusStore, KvStore, SessionStore, RegistrationStore } from '../index.js';
import type { HealthChecker } from '../../health/index.js';
import type { TableIndexes } from './table-indexes.js';
import type { ChangeSource, Notifier } from './blocking-query.js';
import type { Serializer } from './serialize.js';

/** The agent the API impersonates: a single Consul server. */
export interface AgentIdentity {
  nodeName: string;
  datacenter: string;
  address: string;
  version: string;
}

/** Consul's agent limits, overridable so tests need not wait a minute for a reap. */
export interface CheckLimits {
  /** Shortest interval of an http/tcp/script check (Consul: 1s; shorter ones are raised to it). */
  minIntervalMs: number;
  /** Shortest DeregisterCriticalServiceAfter (Consul: 1m; shorter ones are raised to it). */
  minDeregisterCriticalAfterMs: number;
}

/** What createConsulApi needs. */
export interface ConsulApiDeps {
  store: BusStore;
  kv: KvStore;
  sessions: SessionStore;
  registrations: RegistrationStore;
  checker: HealthChecker;
  agent: AgentIdentity;
  /** Allow Args/Script checks registered over HTTP (Consul's enable_script_checks; default false). */
  enableScriptChecks?: boolean;
  now?: () => number;
  /** Consul's minimum check interval and reap delay (defaults 1s and 1m). */
  checkLimits?: Partial<CheckLimits>;
}

/** A service's details beyond the store's record. */
export interface ServiceExtras {
  Kind: string;
  EnableTagOverride: boolean;
  TaggedAddresses: Record<string, { Address: string; Port: number }>;
}

/** How a check is rendered beyond the store's record: its type and definition. */
export interface CheckView {
  Type: string;
  Notes: string;
  Interval: string;
  Timeout: string;
  Definition: Record<string, unknown>;
}

/** The shared state of one API instance. */
export interface ApiContext {
  readonly store: BusStore;
  readonly kv: KvStore;
  readonly sessions: SessionStore;
  readonly registrations: RegistrationStore;
  readonly checker: HealthChecker;
  readonly agent: AgentIdentity;
  readonly nodeId: string;
  readonly scriptChecks: boolean;
  readonly limits: CheckLimits;
  readonly now: () => number;
  readonly indexes: TableIndexes;
  /** Wakes blocking queries on any write to the bus (catalog, health, KV, sessions). */
  readonly changes: ChangeSource;
  /** Wakes blocking event/list queries when an event fires. */
  readonly events: Notifier;
  readonly serviceExtras: Map<string, ServiceExtras>;
  readonly nodeTaggedAddresses: Map<string, Record<string, string>>;
  readonly checkViews: Map<string, CheckView>;
  readonly serialize: Serializer;
  /** Aborted by close(): ends every blocking query. */
  readonly closed: AbortSignal;
}
