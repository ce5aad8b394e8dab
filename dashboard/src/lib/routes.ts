// The URLs a service is reached at through the front door: the daemon's own list when it sends one, else derived from
// the front door's routes (host and path) and its port.
import type { RoomStatusView, ServiceView, TrafficView } from '../api/wire.js';

/** The front door URLs for `service`. */
export function serviceUrls(service: ServiceView, status: RoomStatusView | undefined, traffic: TrafficView | undefined): string[] {
  if (service.urls) return service.urls;
  if (!traffic) return [];
  let base: URL;
  try {
    base = new URL(traffic.url || status?.info.frontDoorUrl || '');
  } catch {
    return [];
  }
  const urls: string[] = [];
  for (const r of traffic.routes) {
    if (r.service !== service.name) continue;
    for (const host of r.hosts) {
      if (host.includes('*')) continue;
      for (const path of r.paths.length ? r.paths : ['/']) urls.push(`${base.protocol}//${host}${base.port ? `:${base.port}` : ''}${path}`);
    }
  }
  return [...new Set(urls)];
}
