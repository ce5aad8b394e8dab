// The service bus: catalog, health and index in memory (the Consul API, KV, persistence and DNS come next).
export type { CheckStatus, CatalogNode, CatalogService, HealthCheck, StoreChange, RaftIndex } from './types.js';
export type { BusStore, ServiceInput, CheckInput } from './store.js';
export { createBusStore, worstStatus } from './store.js';
export type { IndexClock } from './index-clock.js';
export { createIndexClock } from './index-clock.js';
export type { KvEntry, KvSetOptions, KvDeleteOptions, KvStore, Session, SessionInput, SessionStore, TxnKvOp, TxnResult, RegistrationStore } from './kv-types.js';
export type { BusHttpClient, KvWireEntry, Indexed } from './http-client.js';
export { createBusHttpClient } from './http-client.js';
