// The daemon side of the dashboard: serves the built web UI at /ui, its session (a cookie derived from the control
// token), the live Server-Sent Events stream and the KV endpoints the page edits with check-and-set.
export type { DashboardServer, DashboardServerDeps, DashboardRoute } from './create-dashboard-server.js';
export { createDashboardServer } from './create-dashboard-server.js';
export { defaultDashboardDir, NOT_BUILT_MESSAGE } from './serve-ui.js';
export { DASHBOARD_CSP } from './security-headers.js';
export { sessionValue, sessionCookieName } from './session.js';
export type { KvEntryView, KvSnapshot, KvValueView } from './kv-entry-view.js';
export { STREAM_VALUE_LIMIT } from './kv-entry-view.js';
export type { LiveState, LiveStateDeps, SnapshotKind } from './live-state.js';
export { createLiveState } from './live-state.js';
