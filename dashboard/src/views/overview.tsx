// Overview: every service with its instances, machine addresses, health, restarts, traffic and routes; the Postgres
// resources with their connection URLs; the latest events.
import { useEffect } from 'preact/hooks';
import { useStore } from '../lib/store.js';
import { room } from '../state/app-store.js';
import { Badge } from '../components/badge.js';
import { Sparkline } from '../components/sparkline.js';
import { CopyButton } from '../components/copy-button.js';
import { RelTime } from '../components/rel-time.js';
import { instanceVerdict, instancesOf, isHealthy, machineAddress, serviceVerdict } from '../lib/health.js';
import { serviceUrls } from '../lib/routes.js';
import { formatRate } from '../state/rates.js';
import { formatDuration, useNow } from '../lib/time.js';
import { href } from '../lib/router.js';
import type { ServiceView } from '../api/wire.js';

const isDatabase = (s: ServiceView) => s.kind === 'postgres' || s.postgres !== undefined;

function Stat({ label, value, detail, tone }: { label: string; value: string; detail?: string; tone?: string }) {
  return (
    <div class={`stat${tone ? ` stat-${tone}` : ''}`}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {detail && <div class="stat-detail muted">{detail}</div>}
    </div>
  );
}

/** The overview page. */
export function Overview() {
  const status = useStore(room, (s) => s.status);
  const traffic = useStore(room, (s) => s.traffic);
  const rates = useStore(room, (s) => s.rates);
  const events = useStore(room, (s) => s.events);
  const now = useNow();

  useEffect(() => {
    if (status && !performance.getEntriesByName('mr:first-render').length) performance.mark('mr:first-render');
  }, [status !== undefined]);

  if (!status) {
    return (
      <section aria-busy="true">
        <h1>Overview</h1>
        <p class="empty">Waiting for the daemon’s first status…</p>
      </section>
    );
  }
  const apps = status.services.filter((s) => !isDatabase(s));
  const databases = status.services.filter(isDatabase);
  const healthy = status.instances.filter(isHealthy).length;
  const restarts = status.instances.reduce((n, i) => n + i.restarts, 0);
  const started = Date.parse(status.info.startedAt);

  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Overview</h1>
        <p class="muted">
          {status.info.project} · machineroom {status.info.version} · {status.info.machineMode} machines
          {Number.isFinite(started) ? ` · up ${formatDuration(now - started)}` : ''}
        </p>
      </div>
      <div class="stats" role="group" aria-label="Summary">
        <Stat label="Services" value={String(status.services.length)} detail={`${apps.length} apps, ${databases.length} databases`} />
        <Stat label="Instances healthy" value={`${healthy}/${status.instances.length}`} tone={healthy === status.instances.length ? 'ok' : 'bad'} />
        <Stat label="Requests" value={formatRate(rates.total.rps)} detail="through the front door" />
        <Stat label="Errors" value={formatRate(rates.total.eps)} tone={rates.total.eps > 0 ? 'bad' : undefined} detail="5xx and failed upstreams" />
        <Stat label="Restarts" value={String(restarts)} tone={restarts > 0 ? 'warn' : undefined} />
      </div>

      <h2>Services</h2>
      {apps.length === 0 ? (
        <p class="empty">No services in this project. Add one under services: in machineroom.yml, then run machineroom up.</p>
      ) : (
        <div class="table-wrap">
          <table class="table services-table">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Health</th>
                <th scope="col">Instances and machines</th>
                <th scope="col" class="num">Restarts</th>
                <th scope="col" class="num">Requests</th>
                <th scope="col" class="num">Errors</th>
                <th scope="col">Routes</th>
              </tr>
            </thead>
            <tbody>
              {apps.map((s) => {
                const insts = instancesOf(status.instances, s.name);
                const v = serviceVerdict(s, insts);
                const r = rates.services[s.name];
                const urls = serviceUrls(s, status, traffic);
                return (
                  <tr key={s.name} data-service={s.name}>
                    <th scope="row">
                      <a href={href('service', s.name)} class="service-link">
                        {s.name}
                      </a>
                      {s.stopped && <span class="muted"> (stopped)</span>}
                    </th>
                    <td>
                      <Badge tone={v.tone} label={v.label} />
                    </td>
                    <td>
                      <ul class="chips">
                        {insts.map((i) => {
                          const iv = instanceVerdict(i);
                          return (
                            <li key={i.name} class="chip" data-instance={i.name}>
                              <span class={`dot tone-${iv.tone}`} aria-hidden="true" />
                              <span class="chip-name">{i.name}</span>
                              <span class="mono muted">{machineAddress(i) ?? '—'}</span>
                              <span class="sr-only">{iv.label}</span>
                            </li>
                          );
                        })}
                        {insts.length === 0 && <li class="muted">none</li>}
                      </ul>
                    </td>
                    <td class="num">{insts.reduce((n, i) => n + i.restarts, 0)}</td>
                    <td class="num">
                      <span class="rate">
                        <Sparkline values={r?.history ?? []} label={`${s.name} requests per second`} />
                        {formatRate(r?.rps ?? 0)}
                      </span>
                    </td>
                    <td class={`num${(r?.eps ?? 0) > 0 ? ' text-bad' : ''}`}>{formatRate(r?.eps ?? 0)}</td>
                    <td>
                      {urls.length ? (
                        <ul class="links">
                          {urls.map((u) => (
                            <li key={u}>
                              <a href={u} target="_blank" rel="noopener noreferrer">
                                {u.replace(/^https?:\/\//, '')}
                              </a>
                            </li>
                          ))}
                        </ul>
                      ) : (
                        <span class="muted">{s.address ?? 'no route'}</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}

      <h2>Databases</h2>
      {databases.length === 0 ? (
        <p class="empty">No PostgreSQL resources. Add one under postgres: in machineroom.yml to get a real database with its URL published here.</p>
      ) : (
        <div class="cards">
          {databases.map((s) => {
            const insts = instancesOf(status.instances, s.name);
            const v = serviceVerdict(s, insts);
            return (
              <article key={s.name} class="card" data-database={s.name} aria-labelledby={`db-${s.name}`}>
                <header class="card-head">
                  <h3 id={`db-${s.name}`}>
                    <a href={href('service', s.name)}>{s.name}</a>
                  </h3>
                  <Badge tone={v.tone} label={v.label} />
                </header>
                <p class="muted">
                  PostgreSQL{s.postgres ? ` · ${s.postgres.engine}` : ''}
                  {insts[0] && machineAddress(insts[0]) ? ` · on ${machineAddress(insts[0])}` : ''}
                  {s.address ? ` · service address ${s.address}` : ''}
                </p>
                {s.postgres?.databases.length ? (
                  <dl class="db-list">
                    {s.postgres.databases.map((d) => (
                      <div key={d.name} class="db-row">
                        <dt>{d.name}</dt>
                        <dd>
                          <code class="mono">{d.url}</code> <CopyButton text={d.url} what={`the URL of database ${d.name}`} />
                        </dd>
                      </div>
                    ))}
                  </dl>
                ) : (
                  <p class="muted">Connection URLs appear once the resource is provisioned.</p>
                )}
              </article>
            );
          })}
        </div>
      )}

      <h2>Latest events</h2>
      {events.length === 0 ? (
        <p class="empty">No events yet.</p>
      ) : (
        <ul class="event-list compact">
          {events
            .slice(-6)
            .reverse()
            .map((e) => (
              <li key={e.seq} class={`event level-${e.level}`}>
                <RelTime ts={e.ts} /> <span class={`event-type type-${e.type}`}>{e.type}</span> <span class="event-message">{e.message}</span>
              </li>
            ))}
        </ul>
      )}
      <p>
        <a href="#/events">All events →</a>
      </p>
    </section>
  );
}
