// Events: registrations, health changes, restarts, scaling and config, in time order, filtered by kind and service.
import { useMemo, useState } from 'preact/hooks';
import { useStore } from '../lib/store.js';
import { room } from '../state/app-store.js';
import { RelTime } from '../components/rel-time.js';
import { formatClock } from '../lib/time.js';
import { href } from '../lib/router.js';
import { ChoiceField } from '../components/choice-field.js';
import type { EventType, EventView } from '../api/wire.js';

/** Event kinds grouped the way a person asks about them. */
export const EVENT_GROUPS: Record<string, EventType[]> = {
  Health: ['healthy', 'unhealthy'],
  Lifecycle: ['starting', 'started', 'stopping', 'stopped', 'exited', 'restarting', 'crashloop'],
  Scaling: ['scaled'],
  'Config and daemon': ['config', 'daemon', 'build', 'listen', 'error'],
};

/** The events page. */
export function EventsPage() {
  const events = useStore(room, (s) => s.events);
  const status = useStore(room, (s) => s.status);
  const [group, setGroup] = useState('');
  const [service, setService] = useState('');
  const [newestFirst, setNewestFirst] = useState(true);
  const services = useMemo(() => [...new Set([...(status?.services ?? []).map((s) => s.name), ...events.flatMap((e) => (e.service ? [e.service] : []))])].sort(), [status, events]);
  const shown = useMemo(() => {
    const types = group ? new Set(EVENT_GROUPS[group]) : undefined;
    const list = events.filter((e: EventView) => (!types || types.has(e.type)) && (!service || e.service === service));
    return newestFirst ? list.reverse() : list;
  }, [events, group, service, newestFirst]);
  const warnings = events.filter((e) => e.level !== 'info').length;

  return (
    <section aria-labelledby="events-title">
      <div class="page-head">
        <h1 id="events-title">
          Events <span class="count">{events.length}</span>
        </h1>
        <p class="muted">
          What the daemon did and saw, as it happened{warnings ? ` · ${warnings} warnings or errors` : ''}.
        </p>
      </div>
      <div class="toolbar" role="toolbar" aria-label="Event filters">
        <ChoiceField label="Kind" all="All kinds" value={group} choices={Object.keys(EVENT_GROUPS)} onChange={setGroup} />
        <ChoiceField label="Service" all="All services" value={service} choices={services} onChange={setService} />
        <div class="toolbar-actions">
          <button type="button" class="btn" aria-pressed={!newestFirst} onClick={() => setNewestFirst(!newestFirst)}>
            {newestFirst ? 'Newest first' : 'Oldest first'}
          </button>
        </div>
      </div>
      {shown.length === 0 ? (
        <p class="empty">{events.length === 0 ? 'No events yet: they appear as instances start, turn healthy, restart or scale.' : 'No event matches these filters.'}</p>
      ) : (
        <div class="table-wrap">
          <table class="table events-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Service</th>
                <th scope="col">What happened</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((e) => (
                <tr key={e.seq} class={`event level-${e.level}`} data-type={e.type}>
                  <td class="nowrap">
                    <span class="mono">{formatClock(e.ts)}</span> <span class="muted">(<RelTime ts={e.ts} />)</span>
                  </td>
                  <td>
                    <span class={`event-type type-${e.type}`}>{e.type}</span>
                  </td>
                  <td>{e.service ? <a href={href('service', e.service)}>{e.instance ?? e.service}</a> : <span class="muted">—</span>}</td>
                  <td class="event-message">{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
