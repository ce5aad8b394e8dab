// HTTP plumbing shared by the daemon's control API and the bus's Consul API: `Request → Response` handlers on node:http.
export type { Handler } from './serve-handler.js';
export { serveHandler, bufferedResponse } from './serve-handler.js';
export { checkOrigin, isLoopbackHostname } from './origin.js';
