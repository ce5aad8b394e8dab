// Prometheus text exposition of the machine room: instances by state and health, restarts, and front-door traffic.
import type { RoomStatus, Traffic } from '../client/index.js';

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function metric(lines: string[], name: string, help: string, type: 'gauge' | 'counter', samples: [Record<string, string>, number][]): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) {
    const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
    lines.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(value) ? value : 0}`);
  }
}

/** Renders the metrics page served at /metrics on the API listener. */
export function renderMetrics(status: RoomStatus, traffic: Traffic): string {
  const lines: string[] = [];
  const project = status.info.project;
  metric(lines, 'machineroom_instance_up', 'Whether an instance is running and ready (1) or not (0).', 'gauge',
    status.instances.map((i) => [{ project, service: i.service, instance: i.name, state: i.state, health: i.health }, i.state === 'running' && (i.health === 'passing' || i.health === 'none') ? 1 : 0]));
  metric(lines, 'machineroom_instance_restarts_total', 'Restarts of an instance since it was created.', 'counter', status.instances.map((i) => [{ project, service: i.service, instance: i.name }, i.restarts]));
  metric(lines, 'machineroom_service_desired_instances', 'Instances a service should have (config, scale and stop applied).', 'gauge', status.services.map((s) => [{ project, service: s.name }, s.desired]));
  const t = traffic.instances;
  metric(lines, 'machineroom_frontdoor_requests_total', 'Requests the front door sent to an instance.', 'counter', t.map((i) => [{ project, service: i.service, instance: i.id }, i.requests]));
  metric(lines, 'machineroom_frontdoor_errors_total', 'Connection failures and timeouts talking to an instance.', 'counter', t.map((i) => [{ project, service: i.service, instance: i.id }, i.errors]));
  metric(lines, 'machineroom_frontdoor_in_flight', 'Requests in flight to an instance.', 'gauge', t.map((i) => [{ project, service: i.service, instance: i.id }, i.inFlight]));
  metric(lines, 'machineroom_frontdoor_response_seconds', 'Time to response headers over the last 1024 requests, by quantile.', 'gauge',
    t.flatMap((i) => [[{ project, service: i.service, instance: i.id, quantile: '0.5' }, i.p50 / 1000], [{ project, service: i.service, instance: i.id, quantile: '0.99' }, i.p99 / 1000]] as [Record<string, string>, number][]));
  return lines.join('\n') + '\n';
}
