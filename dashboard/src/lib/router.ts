// Hash routing: #/, #/service/<name>, #/logs?service=…, #/kv?key=…, #/events. The server only serves files.
import { useEffect, useState } from 'preact/hooks';

/** Where the page is. */
export type Route =
  | { view: 'overview' }
  | { view: 'service'; name: string }
  | { view: 'logs'; query: URLSearchParams }
  | { view: 'kv'; query: URLSearchParams }
  | { view: 'events' }
  | { view: 'not-found'; path: string };

/** Parses a location hash ("#/service/alpha"). */
export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return { view: 'overview' };
  if (parts[0] === 'service' && parts.length === 2) {
    try {
      return { view: 'service', name: decodeURIComponent(parts[1]!) };
    } catch {
      return { view: 'not-found', path };
    }
  }
  if (parts.length === 1 && parts[0] === 'logs') return { view: 'logs', query };
  if (parts.length === 1 && parts[0] === 'kv') return { view: 'kv', query };
  if (parts.length === 1 && parts[0] === 'events') return { view: 'events' };
  return { view: 'not-found', path };
}

/** The hash for a route's pieces: href('service', 'alpha') → "#/service/alpha". */
export function href(view: 'overview' | 'service' | 'logs' | 'kv' | 'events', arg?: string | Record<string, string | undefined>): string {
  if (view === 'overview') return '#/';
  if (view === 'service') return `#/service/${encodeURIComponent(String(arg ?? ''))}`;
  if (arg && typeof arg === 'object') {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(arg)) if (v) q.set(k, v);
    const s = q.toString();
    return `#/${view}${s ? `?${s}` : ''}`;
  }
  return `#/${view}`;
}

const QUERY_EVENT = 'machineroom:query';

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [state, setState] = useState(() => ({ hash: location.hash, route: parseHash(location.hash) }));
  useEffect(() => {
    const on = () => setState((s) => (s.hash === location.hash ? s : { hash: location.hash, route: parseHash(location.hash) }));
    addEventListener('hashchange', on);
    addEventListener(QUERY_EVENT, on);
    // The listeners are added after the first paint: an address changed since the first render (a link followed or a
    // hash typed while the page started) fired its hashchange to nobody, so the hash is read again here.
    on();
    return () => {
      removeEventListener('hashchange', on);
      removeEventListener(QUERY_EVENT, on);
    };
  }, []);
  return state.route;
}

/** Changes the hash's query without adding a history entry (filters typed into a view). */
export function replaceQuery(view: 'logs' | 'kv', values: Record<string, string | undefined>): void {
  const next = href(view, values);
  if (location.hash === next) return;
  history.replaceState(null, '', next);
  dispatchEvent(new Event(QUERY_EVENT)); // replaceState fires no hashchange
}
