// The front door: routes browser and client traffic by Host and path to the bus's healthy instances.
export type { FrontDoor } from './front-door.js';
export { createFrontDoor } from './front-door.js';
export type { AccessEntry, BalancerKind, RouteConfig, RouteInfo, InstanceStats, FrontDoorOptions, FrontDoorTimeouts, ResolvedFrontDoorOptions } from './types.js';
export { resolveFrontDoorOptions } from './resolve-options.js';
export type { RouteMatch } from './match-route.js';
export { matchRoute, normalizeHost } from './match-route.js';
export type { Balancer } from './balancer.js';
export { createBalancer } from './balancer.js';
