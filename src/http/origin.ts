// The DNS-rebinding guard of every loopback API: the Host and Origin of a request must be names only this machine answers.
import { MachineroomError } from '../errors/index.js';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whether a host name is one only this machine can be reached by (DNS rebinding guard). */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return LOOPBACK_NAMES.has(h) || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return hostHeader;
  }
}

/** Refuses requests whose Host or Origin is not a loopback name; undefined when the request may proceed. */
export function checkOrigin(req: Request): MachineroomError | undefined {
  const host = req.headers.get('host');
  if (!host || !isLoopbackHostname(hostnameOf(host))) return new MachineroomError('ERR_FORBIDDEN', `refused: Host "${host ?? ''}" is not a loopback name; the machineroom API answers only 127.0.0.1 and localhost`);
  const origin = req.headers.get('origin');
  if (origin !== null) {
    let ok = false;
    try {
      const u = new URL(origin);
      // Same origin only: a page on another loopback port is another site.
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && isLoopbackHostname(u.hostname) && u.host === host.toLowerCase();
    } catch {
      ok = false;
    }
    if (!ok) return new MachineroomError('ERR_FORBIDDEN', `refused: Origin "${origin}" is not this API's origin (cross-site requests are not allowed)`);
  }
  return undefined;
}

