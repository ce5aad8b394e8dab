// beta's page: the current database username, a masked password, and a form to change them. Rendered on the server
// (works without JavaScript: the form posts to / itself), then the script saves through the JSON API in place.

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** The page for the state { username, passwordSet } (or an `error` when the bus could not be read), and a `notice`. */
export function credentialsPage({ prefix, bus, state, error, notice }) {
  const username = state?.username ?? null;
  const passwordSet = Boolean(state?.passwordSet);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>beta · database credentials</title>
<style>
  :root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6577; --line: #dfe3ea; --field: #fff; --accent: #2357d9; --ok: #1e6b34; --okbg: #e6f4ea; --bad: #b3261e; --badbg: #fdecea; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e3e7ef; --muted: #9aa3b5; --line: #2c3242; --field: #1a1e28; --accent: #8fb0ff; --ok: #a8dab5; --okbg: #17301f; --bad: #ffb4ab; --badbg: #3a1d1b; } body { background: #12151c; } }
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 34rem; margin: 3rem auto; padding: 0 1rem; color: var(--fg); }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  .muted { color: var(--muted); font-size: .9rem; }
  code { font: .9em ui-monospace, monospace; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 1.25rem 0; }
  dt { color: var(--muted); } dd { margin: 0; font-weight: 600; }
  form { display: grid; gap: .75rem; margin: 1.5rem 0; padding-top: 1.25rem; border-top: 1px solid var(--line); }
  label { display: grid; gap: .2rem; font-size: .9rem; }
  input { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--field); color: var(--fg); }
  .buttons { display: flex; gap: .5rem; }
  button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
  button.quiet { background: transparent; color: var(--accent); }
  #status:empty { display: none; }
  #status { padding: .6rem .9rem; border-radius: 4px; border-left: 4px solid var(--ok); background: var(--okbg); }
  #status.bad { border-color: var(--bad); background: var(--badbg); }
</style>
</head>
<body>
<h1>beta</h1>
<p class="muted">Database credentials for alpha, kept in the service bus's KV under <code>${escapeHtml(prefix)}</code> at ${escapeHtml(bus)}. alpha watches those keys and reconnects when they change.</p>
<dl>
  <dt>Username</dt><dd id="username">${username ? escapeHtml(username) : '<span class="muted">not set</span>'}</dd>
  <dt>Password</dt><dd id="password">${passwordSet ? '••••••••' : '<span class="muted">not set</span>'}</dd>
</dl>
<p id="status" role="status"${error ? ' class="bad"' : ''}>${escapeHtml(error ?? notice ?? '')}</p>
<form id="form" method="post" action="/">
  <label>Username <input name="username" autocomplete="username" value="${escapeHtml(username ?? '')}" required maxlength="63"></label>
  <label>Password <input name="password" type="password" autocomplete="new-password" placeholder="${passwordSet ? 'leave empty to keep the current one' : ''}"${passwordSet ? '' : ' required'}></label>
  <div class="buttons"><button type="submit">Save</button><button type="button" class="quiet" id="clear">Clear credentials</button></div>
</form>
<script>
  const $ = (id) => document.getElementById(id);
  const form = $('form');
  function show(state) {
    $('username').innerHTML = '';
    $('username').append(state.username ?? Object.assign(document.createElement('span'), { className: 'muted', textContent: 'not set' }));
    $('password').innerHTML = state.passwordSet ? '••••••••' : '<span class="muted">not set</span>';
    form.username.value = state.username ?? '';
    form.password.value = '';
    form.password.required = !state.passwordSet;
    form.password.placeholder = state.passwordSet ? 'leave empty to keep the current one' : '';
  }
  function status(text, bad) {
    $('status').textContent = text;
    $('status').className = bad ? 'bad' : '';
  }
  async function send(method, body) {
    try {
      const res = await fetch('/api/credentials', { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      const data = await res.json();
      if (!res.ok) return status(data.error?.message ?? 'HTTP ' + res.status, true);
      show(data);
      status(method === 'DELETE' ? 'Cleared: alpha answers 503 until credentials are set again.' : 'Saved: alpha reconnects with the new credentials.', false);
    } catch (err) {
      status('beta did not answer: ' + err.message, true);
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { username: form.username.value.trim() };
    if (form.password.value) body.password = form.password.value;
    send('PUT', body);
  });
  $('clear').addEventListener('click', () => send('DELETE'));
</script>
</body>
</html>
`;
}
