// The headers every /ui answer carries: a strict Content-Security-Policy (the built page has no inline script or style),
// no MIME sniffing, no referrer (the login URL carries the token), and no framing.

/** The dashboard's Content-Security-Policy: everything from this origin only, images also as data: URLs. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Security headers for a /ui answer, plus `extra`. */
export function uiHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...extra,
  };
}
