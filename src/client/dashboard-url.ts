// The dashboard's login link: what `up` and `machineroom dashboard` print, and what a browser opens to get a session.

/** http://127.0.0.1:<api port>/ui/login?token=… for a daemon's API URL and control token. */
export function dashboardLoginUrl(apiUrl: string, token: string): string {
  return `${apiUrl.replace(/\/+$/, '')}/ui/login?token=${encodeURIComponent(token)}`;
}
