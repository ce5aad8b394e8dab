// Logs: every instance's output and the daemon's events, live; the filters live in the address (#/logs?service=alpha)
// so a filtered view can be linked to and survives a reload.
import { useMemo } from 'preact/hooks';
import { useStore } from '../lib/store.js';
import { room } from '../state/app-store.js';
import { LogPanel } from '../components/log-panel.js';
import type { LogFilter } from '../components/log-panel.js';
import { replaceQuery } from '../lib/router.js';

const STREAMS = new Set(['stdout', 'stderr', 'event']);

/** The filter a query string describes. */
export function filterFromQuery(query: URLSearchParams): LogFilter {
  const stream = query.get('stream') ?? '';
  return {
    service: query.get('service') || undefined,
    instance: query.get('instance') || undefined,
    stream: STREAMS.has(stream) ? (stream as LogFilter['stream']) : undefined,
    q: query.get('q') || undefined,
  };
}

/** The logs page. */
export function LogsPage({ query }: { query: URLSearchParams }) {
  const logs = useStore(room, (s) => s.logs);
  const trimmed = useStore(room, (s) => s.logsTrimmed);
  const status = useStore(room, (s) => s.status);
  const queryText = query.toString();
  const filter = useMemo(() => filterFromQuery(query), [queryText]);
  // The selects offer what runs now and whatever has printed (a stopped instance's lines stay readable).
  const services = useMemo(() => {
    const set = new Set<string>((status?.services ?? []).map((s) => s.name));
    for (const l of logs) if (l.service !== 'machineroom') set.add(l.service);
    return [...set].sort();
  }, [status, logs]);
  const instances = useMemo(() => {
    const set = new Set<string>();
    for (const i of status?.instances ?? []) if (!filter.service || i.service === filter.service) set.add(i.name);
    for (const l of logs) if (l.source !== 'machineroom' && (!filter.service || l.service === filter.service)) set.add(l.source);
    return [...set].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  }, [status, logs, filter.service]);
  return (
    <section class="logs-page" aria-labelledby="logs-title">
      <div class="page-head">
        <h1 id="logs-title">Logs</h1>
        <p class="muted">Every instance’s output and the daemon’s events, as they happen. Colours are the terminal’s.</p>
      </div>
      <LogPanel
        lines={logs}
        filter={filter}
        onFilter={(f) => replaceQuery('logs', { service: f.service, instance: f.instance, stream: f.stream, q: f.q })}
        services={services}
        instances={instances}
        trimmed={trimmed}
        label="Live logs"
        tall
      />
    </section>
  );
}
