// alpha's answers: JSON for programs, a small HTML page for browsers (chosen by ?format= or the Accept header).

/** HTML only when asked for: ?format=html, or an Accept header naming text/html (curl's default Accept, any type, gets JSON). */
export function wantsHtml(req, url) {
  const format = url.searchParams.get('format');
  if (format === 'json') return false;
  if (format === 'html') return true;
  return /\btext\/html\b/i.test(req.headers.accept ?? '');
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const STYLE = `
  :root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6577; --line: #dfe3ea; --accent: #2357d9; --here: #eaf0ff; --bad: #b3261e; --badbg: #fdecea; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e3e7ef; --muted: #9aa3b5; --line: #2c3242; --accent: #8fb0ff; --here: #1d2740; --bad: #ffb4ab; --badbg: #3a1d1b; } body { background: #12151c; } }
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: var(--fg); }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  p { margin: .5rem 0; }
  .muted { color: var(--muted); font-size: .9rem; }
  code { font: .9em ui-monospace, monospace; }
  table { width: 100%; border-collapse: collapse; margin: 1.25rem 0; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  tr.here td { background: var(--here); font-weight: 600; }
  tfoot td { border-bottom: 0; font-weight: 600; }
  .error { border-left: 4px solid var(--bad); background: var(--badbg); padding: .75rem 1rem; border-radius: 4px; }
  .error code { color: var(--bad); }
  a { color: var(--accent); }`;

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** The request counts of every host as HTML, with the row of the host that answered marked. */
export function countsHtml({ host, counts, total, address }) {
  const rows = counts
    .map((c) => `<tr${c.hostname === host ? ' class="here"' : ''}><td>${escapeHtml(c.hostname)}${c.hostname === host ? ' <span class="muted">(this one)</span>' : ''}</td><td class="n">${c.count}</td></tr>`)
    .join('\n');
  return page(
    `alpha · ${host}`,
    `<h1>alpha</h1>
<p>Answered by <strong>${escapeHtml(host)}</strong> <span class="muted">at ${escapeHtml(address)}</span>.</p>
<table>
<thead><tr><th>Host</th><th class="n">Requests</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><td>Total</td><td class="n">${total}</td></tr></tfoot>
</table>
<p class="muted">Every request to <code>/</code> adds one to its host's row in the <code>host_count</code> table. <a href="/">Reload</a> · <a href="/?format=json">JSON</a></p>`,
  );
}

const HINTS = {
  ERR_CREDENTIALS_NOT_SET: 'Set the username and password on the beta page; alpha picks them up from KV without a restart.',
  ERR_CREDENTIALS_REJECTED: 'Fix the username or password on the beta page; alpha reconnects as soon as KV changes.',
  ERR_DATABASE_UNREACHABLE: 'Is the database running? <code>machineroom ps</code> shows it; alpha retries on every request.',
  ERR_BUS_UNREACHABLE: 'alpha reads its database settings from the service bus; is it running?',
};

/** An error as HTML: what went wrong (the message), its stable code, and what to do. */
export function errorHtml({ host, address, error }) {
  return page(
    `alpha · ${error.code}`,
    `<h1>alpha can't count right now</h1>
<p>Answered by <strong>${escapeHtml(host)}</strong> <span class="muted">at ${escapeHtml(address)}</span>.</p>
<div class="error"><p>${escapeHtml(error.message)}</p><p class="muted"><code>${escapeHtml(error.code)}</code></p></div>
${HINTS[error.code] ? `<p>${HINTS[error.code]}</p>` : ''}
<p class="muted"><a href="/">Try again</a></p>`,
  );
}
