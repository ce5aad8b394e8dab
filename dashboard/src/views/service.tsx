// One service: its instances with every check's status and output, scale, restart (one instance or all), stop/start,
// and its logs per instance.
import { useEffect, useState } from 'preact/hooks';
import { useStore } from '../lib/store.js';
import { room } from '../state/app-store.js';
import { api } from '../api/client.js';
import { SignInHint } from '../components/shell.js';
import { perform } from '../state/notices.js';
import { Badge } from '../components/badge.js';
import { RelTime } from '../components/rel-time.js';
import { CopyButton } from '../components/copy-button.js';
import { LogPanel } from '../components/log-panel.js';
import type { LogFilter } from '../components/log-panel.js';
import { instanceVerdict, instancesOf, machineAddress, serviceVerdict } from '../lib/health.js';
import { serviceUrls } from '../lib/routes.js';
import { formatRate } from '../state/rates.js';
import { formatDuration, useNow } from '../lib/time.js';
import { href } from '../lib/router.js';
import type { CheckView, InstanceView } from '../api/wire.js';

const CHECK_TONE = { passing: 'ok', warning: 'warn', critical: 'bad' } as const;

function lastExitText(i: InstanceView): string {
  if (!i.lastExit) return '—';
  return i.lastExit.signal ? `signal ${i.lastExit.signal}` : `code ${i.lastExit.code}`;
}

function Checks({ instance }: { instance: InstanceView }) {
  const checks: CheckView[] | undefined = instance.checks;
  if (!checks) {
    return instance.healthOutput ? <pre class="check-output">{instance.healthOutput}</pre> : <p class="muted">No check results yet.</p>;
  }
  if (checks.length === 0) return <p class="muted">No checks registered on the bus{instance.state === 'running' ? '' : ' (not running)'}.</p>;
  return (
    <table class="table checks-table">
      <caption class="sr-only">Checks of {instance.name}</caption>
      <thead>
        <tr>
          <th scope="col">Check</th>
          <th scope="col">Status</th>
          <th scope="col">Output</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {checks.map((c) => (
          <tr key={c.id} data-check={c.id} data-status={c.status}>
            <td>
              {c.name} <span class="muted">({c.kind})</span>
            </td>
            <td>
              <Badge tone={CHECK_TONE[c.status]} label={c.status} />
            </td>
            <td>
              <pre class="check-output">{c.output || '—'}</pre>
            </td>
            <td>{c.updatedAt ? <RelTime ts={c.updatedAt} /> : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ScaleControl({ service, desired, disabled }: { service: string; desired: number; disabled: boolean }) {
  const [value, setValue] = useState(String(desired));
  const [busy, setBusy] = useState(false);
  const [dirty, setDirty] = useState(false);
  useEffect(() => {
    if (!dirty) setValue(String(desired));
  }, [desired, dirty]);
  const n = Number(value);
  const valid = value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= 1000;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!valid) return;
    setBusy(true);
    const ok = await perform(() => api.scale(service, n), `${service} scaled to ${n}`);
    setBusy(false);
    if (ok) setDirty(false);
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label={`Scale ${service}`}>
      <label class="field">
        <span>Replicas</span>
        <input
          type="number"
          min={0}
          max={1000}
          step={1}
          inputMode="numeric"
          value={value}
          onInput={(e) => {
            setValue(e.currentTarget.value);
            setDirty(true);
          }}
          disabled={disabled || busy}
          aria-invalid={!valid}
          class="input-narrow"
        />
      </label>
      <button type="submit" class="btn btn-primary" disabled={disabled || busy || !valid || n === desired}>
        {busy ? 'Scaling…' : 'Scale'}
      </button>
    </form>
  );
}

/** The service page (keyed by name where it is used, so its state starts afresh for another service). */
export function ServicePage({ name }: { name: string }) {
  const status = useStore(room, (s) => s.status);
  const traffic = useStore(room, (s) => s.traffic);
  const rates = useStore(room, (s) => s.rates);
  const logs = useStore(room, (s) => s.logs);
  const trimmed = useStore(room, (s) => s.logsTrimmed);
  const authenticated = useStore(room, (s) => s.authenticated);
  const [filter, setFilter] = useState<LogFilter>({ service: name });
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const now = useNow();

  if (!status) return <p class="empty">Waiting for the daemon’s first status…</p>;
  const service = status.services.find((s) => s.name === name);
  if (!service) {
    return (
      <section>
        <h1>{name}</h1>
        <p class="empty">
          There is no service named “{name}” in this project. <a href="#/">Back to the overview</a>
        </p>
      </section>
    );
  }
  const insts = instancesOf(status.instances, name);
  const v = serviceVerdict(service, insts);
  const isDatabase = service.kind === 'postgres' || service.postgres !== undefined;
  // A database speaks its own protocol: its front-door HTTP routes are no links to follow (its URLs are below).
  const urls = isDatabase ? [] : serviceUrls(service, status, traffic);
  const disabled = !authenticated;
  const act = async (key: string, fn: () => Promise<unknown>, done: string) => {
    setBusy(key);
    await perform(fn, done);
    setBusy(undefined);
  };

  return (
    <section aria-labelledby="service-title">
      <p class="crumbs">
        <a href="#/">Overview</a> / {name}
      </p>
      <div class="page-head">
        <h1 id="service-title">
          {name} <Badge tone={v.tone} label={v.label} />
        </h1>
        <p class="muted">
          {isDatabase ? 'PostgreSQL resource' : 'service'} · {service.desired} desired
          {service.version ? ` · version ${service.version}` : ''}
          {service.address ? ` · service address ${service.address}` : ''}
          {service.build === 'failed' ? ` · build failed: ${service.buildError ?? ''}` : service.build === 'running' ? ' · building…' : ''}
        </p>
        {urls.length > 0 && (
          <ul class="links inline">
            {urls.map((u) => (
              <li key={u}>
                <a href={u} target="_blank" rel="noopener noreferrer">
                  {u}
                </a>
              </li>
            ))}
          </ul>
        )}
        {service.postgres?.databases.map((d) => (
          <p key={d.name}>
            Database <strong>{d.name}</strong>: <code class="mono">{d.url}</code> <CopyButton text={d.url} what={`the URL of database ${d.name}`} />
          </p>
        ))}
      </div>

      <div class="actions-bar" role="group" aria-label={`Actions on ${name}`}>
        <ScaleControl service={name} desired={service.desired} disabled={disabled} />
        <button type="button" class="btn" disabled={disabled || busy !== undefined || insts.length === 0} onClick={() => act('all', () => api.restart(name), `${name}: every instance restarted`)}>
          {busy === 'all' ? 'Restarting…' : 'Restart all'}
        </button>
        {service.stopped ? (
          <button type="button" class="btn" disabled={disabled || busy !== undefined} onClick={() => act('start', () => api.start(name), `${name} started`)}>
            Start service
          </button>
        ) : (
          <button type="button" class="btn btn-danger" disabled={disabled || busy !== undefined} onClick={() => act('stop', () => api.stop(name), `${name} stopped`)}>
            Stop service
          </button>
        )}
        {disabled && <p class="muted hint">Read-only: <SignInHint />.</p>}
      </div>

      <h2>
        Instances <span class="count">{insts.length}</span>
      </h2>
      {insts.length === 0 ? (
        <p class="empty">{service.stopped ? `${name} is stopped. Start it to run its instances again.` : `${name} has no instances (scaled to ${service.desired}).`}</p>
      ) : (
        <div class="instances">
          {insts.map((i) => {
            const iv = instanceVerdict(i);
            const r = rates.instances[i.name];
            return (
              <article key={i.name} class="card instance" data-instance={i.name} aria-labelledby={`inst-${i.name}`}>
                <header class="card-head">
                  <h3 id={`inst-${i.name}`}>{i.name}</h3>
                  <Badge tone={iv.tone} label={iv.label} title={i.healthOutput} />
                  <div class="card-actions">
                    <a class="btn btn-small" href={href('logs', { instance: i.name })}>
                      Logs
                    </a>
                    <button type="button" class="btn btn-small" disabled={disabled || busy !== undefined} onClick={() => act(i.name, () => api.restart(i.name), `${i.name} restarted`)}>
                      {busy === i.name ? 'Restarting…' : 'Restart'}
                    </button>
                  </div>
                </header>
                <dl class="facts">
                  <div>
                    <dt>Machine</dt>
                    <dd class="mono">{machineAddress(i) ?? '—'}</dd>
                  </div>
                  <div>
                    <dt>State</dt>
                    <dd>{i.state}</dd>
                  </div>
                  <div>
                    <dt>PID</dt>
                    <dd class="mono">{i.pid ?? '—'}</dd>
                  </div>
                  <div>
                    <dt>Up</dt>
                    <dd>{i.startedAt && i.state === 'running' ? formatDuration(now - i.startedAt) : '—'}</dd>
                  </div>
                  <div>
                    <dt>Restarts</dt>
                    <dd>{i.restarts}</dd>
                  </div>
                  <div>
                    <dt>Last exit</dt>
                    <dd>
                      {lastExitText(i)}
                      {i.lastExit && (
                        <>
                          {' '}
                          <RelTime ts={i.lastExit.at} />
                        </>
                      )}
                    </dd>
                  </div>
                  <div>
                    <dt>Requests</dt>
                    <dd>{formatRate(r?.rps ?? 0)}</dd>
                  </div>
                  <div>
                    <dt>Errors</dt>
                    <dd class={(r?.eps ?? 0) > 0 ? 'text-bad' : undefined}>{formatRate(r?.eps ?? 0)}</dd>
                  </div>
                </dl>
                {i.warning && (
                  <p class="warning" role="note">
                    {i.warning}
                  </p>
                )}
                <Checks instance={i} />
              </article>
            );
          })}
        </div>
      )}

      <h2>Logs</h2>
      <LogPanel
        lines={logs}
        filter={filter}
        onFilter={(f) => setFilter({ ...f, service: name })}
        instances={insts.map((i) => i.name)}
        trimmed={trimmed}
        label={`Logs of ${name}`}
      />
    </section>
  );
}
