// The frame around every view: the header with the project, the navigation, the theme toggle and the connection, the
// read-only and connection banners, and the action messages.
import type { ComponentChildren } from 'preact';
import { useStore } from '../lib/store.js';
import { room } from '../state/app-store.js';
import { notices, dismiss } from '../state/notices.js';
import type { ThemeChoice } from '../lib/theme.js';
import type { Route } from '../lib/router.js';
import { formatDuration, useNow } from '../lib/time.js';

const NAV: Array<{ view: Route['view']; label: string; href: string }> = [
  { view: 'overview', label: 'Overview', href: '#/' },
  { view: 'logs', label: 'Logs', href: '#/logs' },
  { view: 'kv', label: 'KV', href: '#/kv' },
  { view: 'events', label: 'Events', href: '#/events' },
];

const NEXT_THEME: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };

function ConnectionState() {
  const connection = useStore(room, (s) => s.connection);
  const lostAt = useStore(room, (s) => s.lostAt);
  const now = useNow();
  const text = connection === 'live' ? 'Live' : connection === 'connecting' ? 'Connecting…' : `Reconnecting${lostAt ? ` (${formatDuration(now - lostAt)})` : ''}…`;
  return (
    <span class={`conn conn-${connection}`} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function Notices() {
  const list = useStore(notices, (s) => s.list);
  return (
    <div class="notices" aria-live="polite">
      {list.map((n) => (
        <div key={n.id} class={`notice notice-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button type="button" class="btn btn-small btn-quiet" onClick={() => dismiss(n.id)} aria-label="Dismiss this message">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

/** How to get a session, with the commands set as code. */
export function SignInHint() {
  return (
    <>
      open the dashboard link that <code>machineroom up</code> printed, or run <code>machineroom dashboard</code> for it
    </>
  );
}

/** The page frame. */
export function Shell({ route, theme, onTheme, children }: { route: Route; theme: ThemeChoice; onTheme: (t: ThemeChoice) => void; children: ComponentChildren }) {
  const info = useStore(room, (s) => s.info);
  const authenticated = useStore(room, (s) => s.authenticated);
  const connection = useStore(room, (s) => s.connection);
  const current = route.view === 'service' ? 'overview' : route.view;
  return (
    <div class="app">
      {/* The address's hash is the route: the skip link moves focus itself instead of navigating to #main. */}
      <a
        class="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="#/">
          <span class="brand-mark" aria-hidden="true">▦</span> machineroom
          {info && <span class="brand-project">{info.project}</span>}
        </a>
        <nav aria-label="Views">
          <ul class="nav">
            {NAV.map((n) => (
              <li key={n.view}>
                <a href={n.href} aria-current={current === n.view ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="topbar-end">
          <ConnectionState />
          <span class={`session ${authenticated ? 'session-on' : 'session-off'}`}>{authenticated ? 'Signed in' : 'Read-only'}</span>
          <button type="button" class="btn btn-small" onClick={() => onTheme(NEXT_THEME[theme])} aria-label={`Theme: ${theme}. Switch to ${NEXT_THEME[theme]}`} title="Switch theme">
            Theme: {theme}
          </button>
        </div>
      </header>
      {!authenticated && connection === 'live' && (
        <div class="banner banner-readonly" role="note">
          <strong>Read-only.</strong> You can watch everything, but scaling, restarts and KV changes need a session: <SignInHint />.
        </div>
      )}
      {connection === 'reconnecting' && (
        <div class="banner banner-lost" role="alert">
          <strong>Lost contact with the daemon.</strong> Reconnecting… (is <code>machineroom up</code> still running?) What you see may be out of date.
        </div>
      )}
      <Notices />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
