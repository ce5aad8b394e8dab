// The service bus: catalog, health and index in memory (the Consul API, KV, persistence and DNS come next).
export type { CheckStatus, CatalogNode, CatalogService, HealthCheck, StoreChange, RaftIndex } from './types.js';
export type { BusStore, ServiceInput, CheckInput } from './store.js';
export { createBusStore, worstStatus } from './store.js';
export type { IndexClock } from './index-clock.js';
export { createIndexClock } from './index-clock.js';
export type { KvEntry, KvSetOptions, KvDeleteOptions, KvStore, Session, SessionInput, SessionStore, TxnKvOp, TxnResult, RegistrationStore } from './kv-types.js';
export type { BusData, BusDataOptions, BusRecovery } from './bus-data.js';
export { openBusData, DEFAULT_WAL_MAX_BYTES, DEFAULT_TOMBSTONE_TTL_MS } from './bus-data.js';
export type { BusTimers } from './bus-context.js';
export { consulRpcError, isConsulRpcError } from './bus-errors.js';
export { MAX_KV_FLAGS } from './kv-store.js';
export { DEFAULT_SESSION_TTL_MIN_MS, SESSION_TTL_MAX_MS, MAX_LOCK_DELAY_MS, SERF_CHECK_ID, parseLockDelayNs } from './session-store.js';
export type { ConsulApi, ConsulApiDeps, AgentIdentity, CheckLimits, FilterExpression, FieldSchema } from './consul-api/index.js';
export { createConsulApi, ConsulHttpError, parseFilter, compileFilter, FilterSyntaxError } from './consul-api/index.js';
