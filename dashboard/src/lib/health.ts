// How an instance or a service is doing, in one word and a tone (the badge's colour): the same rules as `ps`.
import type { InstanceView, ServiceView } from '../api/wire.js';

/** A badge's colour. */
export type Tone = 'ok' | 'warn' | 'bad' | 'busy' | 'off';

/** An instance in one word, with its tone. */
export interface Verdict {
  tone: Tone;
  label: string;
}

const RANK: Record<Tone, number> = { bad: 4, warn: 3, busy: 2, off: 1, ok: 0 };

/** An instance: "passing", "critical", "starting", "crash loop", "stopped"… */
export function instanceVerdict(i: Pick<InstanceView, 'state' | 'health' | 'lastExit'>): Verdict {
  switch (i.state) {
    case 'running':
      if (i.health === 'passing') return { tone: 'ok', label: 'passing' };
      if (i.health === 'none') return { tone: 'ok', label: 'running' };
      if (i.health === 'warning') return { tone: 'warn', label: 'warning' };
      if (i.health === 'critical') return { tone: 'bad', label: 'critical' };
      return { tone: 'busy', label: 'checking' };
    case 'waiting':
      return { tone: 'busy', label: 'waiting' };
    case 'starting':
      return { tone: 'busy', label: 'starting' };
    case 'stopping':
      return { tone: 'busy', label: 'stopping' };
    case 'backoff':
      return { tone: 'bad', label: 'restarting' };
    case 'crashloop':
      return { tone: 'bad', label: 'crash loop' };
    case 'failed':
      return { tone: 'bad', label: 'failed' };
    case 'exited':
      return (i.lastExit?.code ?? 1) === 0 ? { tone: 'off', label: 'completed' } : { tone: 'bad', label: 'exited' };
    case 'stopped':
      return { tone: 'off', label: 'stopped' };
  }
}

/** Whether an instance counts as healthy (running, and its check passing or absent). */
export function isHealthy(i: Pick<InstanceView, 'state' | 'health'>): boolean {
  return i.state === 'running' && (i.health === 'passing' || i.health === 'none');
}

/** A service: "3/3 healthy", "1/2 healthy", "stopped", with the worst instance's tone. */
export function serviceVerdict(s: ServiceView, instances: InstanceView[]): Verdict & { healthy: number; total: number } {
  const healthy = instances.filter(isHealthy).length;
  const total = instances.length;
  if (total === 0) return { tone: 'off', label: s.stopped ? 'stopped' : s.desired === 0 ? 'scaled to 0' : 'no instances', healthy, total };
  let tone: Tone = 'ok';
  for (const i of instances) {
    const t = instanceVerdict(i).tone;
    if (RANK[t] > RANK[tone]) tone = t;
  }
  return { tone, label: `${healthy}/${total} healthy`, healthy, total };
}

/** The instances of a service, in index order. */
export function instancesOf(all: InstanceView[], service: string): InstanceView[] {
  return all.filter((i) => i.service === service).sort((a, b) => a.index - b.index);
}

/** An instance's machine address with its primary port: "127.77.0.2:3000". */
export function machineAddress(i: InstanceView): string | undefined {
  if (!i.address) return undefined;
  const port = Object.values(i.ports)[0];
  return port ? `${i.address}:${port}` : i.address;
}
