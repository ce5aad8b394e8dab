// The Consul-compatible HTTP API (/v1/*): apps written against Consul's agent, catalog, health, KV, session, txn, event
// and status endpoints work unchanged against the bus.
export type { ConsulApi } from './create-consul-api.js';
export { createConsulApi } from './create-consul-api.js';
export type { ConsulApiDeps, AgentIdentity, CheckLimits } from './api-context.js';
export { ConsulHttpError } from './consul-error.js';
export type { FilterExpression, MatchOperator, Selector } from './filter-parse.js';
export { parseFilter, FilterSyntaxError } from './filter-parse.js';
export type { FieldSchema, FilterPredicate } from './filter-evaluate.js';
export { compileFilter } from './filter-evaluate.js';
