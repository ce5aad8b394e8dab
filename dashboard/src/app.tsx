// The dashboard: the frame and the view the address names.
import { useEffect } from 'preact/hooks';
import { Shell } from './components/shell.js';
import { Overview } from './views/overview.js';
import { ServicePage } from './views/service.js';
import { LogsPage } from './views/logs.js';
import { KvPage } from './views/kv.js';
import { EventsPage } from './views/events.js';
import { useRoute } from './lib/router.js';
import { useTheme } from './lib/theme.js';
import { useStore } from './lib/store.js';
import { room } from './state/app-store.js';

const TITLES = { overview: 'Overview', service: '', logs: 'Logs', kv: 'KV', events: 'Events', 'not-found': 'Not found' } as const;

/** The whole page. */
export function App() {
  const route = useRoute();
  const [theme, setTheme] = useTheme();
  const project = useStore(room, (s) => s.info?.project);
  useEffect(() => {
    const what = route.view === 'service' ? route.name : TITLES[route.view];
    document.title = `${what} · ${project ?? 'machineroom'} · machineroom`;
  }, [route, project]);
  // A new view: focus its content, so keyboard and screen-reader users land on it.
  useEffect(() => {
    const main = document.getElementById('main');
    if (main && document.activeElement && document.activeElement.closest('nav')) main.focus({ preventScroll: true });
  }, [route.view, route.view === 'service' ? route.name : '']);

  let view;
  switch (route.view) {
    case 'overview':
      view = <Overview />;
      break;
    case 'service':
      view = <ServicePage key={route.name} name={route.name} />;
      break;
    case 'logs':
      view = <LogsPage query={route.query} />;
      break;
    case 'kv':
      view = <KvPage query={route.query} />;
      break;
    case 'events':
      view = <EventsPage />;
      break;
    case 'not-found':
      view = (
        <section>
          <h1>Not found</h1>
          <p class="empty">
            Nothing lives at <code>{route.path}</code>. <a href="#/">Go to the overview</a>
          </p>
        </section>
      );
      break;
  }
  return (
    <Shell route={route} theme={theme} onTheme={setTheme}>
      {view}
    </Shell>
  );
}
