// The dashboard's session: a cookie whose value is derived from the control token (HMAC, so the cookie is not the token
// and stays valid across daemon restarts while the token does), named after the port the browser used, since browsers
// do not keep cookies apart by port and two projects' daemons may both be on 127.0.0.1.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the session value is an HMAC of (keyed with the control token). */
const SESSION_MESSAGE = 'machineroom dashboard session';

/** The cookie value for a control token: hex HMAC-SHA256(token, "machineroom dashboard session"). */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update(SESSION_MESSAGE).digest('hex');
}

/** Compares two strings in constant time (for their length). */
export function sameSecret(given: string | null | undefined, expected: string): boolean {
  if (given === null || given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The port the browser addressed: the Host header's, else 443 behind an HTTPS front door, else 80. */
function requestPort(req: Request): string {
  const host = req.headers.get('host') ?? '';
  try {
    const port = new URL(`http://${host}`).port;
    if (port) return port;
  } catch {
    /* a malformed Host is refused elsewhere; name the cookie after the default port */
  }
  return req.headers.get('x-forwarded-proto') === 'https' ? '443' : '80';
}

/** `mr_session_<port>` for the port of the request's Host. */
export function sessionCookieName(req: Request): string {
  return `mr_session_${requestPort(req)}`;
}

/** The values of every cookie called `name` in the request (a browser may send two with one name, from two paths). */
function cookieValues(req: Request, name: string): string[] {
  const out: string[] = [];
  for (const part of (req.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/** Whether the request carries this daemon's session cookie. */
export function hasSession(req: Request, value: string): boolean {
  return cookieValues(req, sessionCookieName(req)).some((v) => sameSecret(v, value));
}

/** The Set-Cookie header that starts a session (HttpOnly, SameSite=Strict; Secure when the browser came over HTTPS). */
export function sessionCookie(req: Request, value: string): string {
  const secure = req.headers.get('x-forwarded-proto') === 'https' ? '; Secure' : '';
  return `${sessionCookieName(req)}=${value}; HttpOnly; SameSite=Strict; Path=/${secure}`;
}
