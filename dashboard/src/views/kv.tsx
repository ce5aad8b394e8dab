// KV: browse the tree, create, edit and delete keys. Writes use CAS (the index the value had when editing began), so
// a change made meanwhile by someone else shows as a conflict instead of being overwritten. Secret values are masked
// until revealed; JSON is shown pretty. Values are always text in the page.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useStore } from '../lib/store.js';
import { room } from '../state/app-store.js';
import { api, ApiError, SIGN_IN_HINT } from '../api/client.js';
import { SignInHint } from '../components/shell.js';
import { notify } from '../state/notices.js';
import { buildKvTree, prettyJson } from '../lib/kv-tree.js';
import type { KvNode } from '../lib/kv-tree.js';
import { href } from '../lib/router.js';
import type { KvEntryView } from '../api/wire.js';

function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function Tree({ nodes, selected, collapsed, onToggle }: { nodes: KvNode[]; selected: string | undefined; collapsed: Set<string>; onToggle: (path: string) => void }) {
  return (
    <ul class="kv-tree">
      {nodes.map((n) =>
        n.children ? (
          <li key={n.path}>
            <button type="button" class="kv-folder" aria-expanded={!collapsed.has(n.path)} onClick={() => onToggle(n.path)}>
              <span class="caret" aria-hidden="true">
                {collapsed.has(n.path) ? '▸' : '▾'}
              </span>
              {n.name}
              <span class="count">{countKeys(n)}</span>
            </button>
            {n.entry && (
              <a class={`kv-key kv-marker${selected === n.path ? ' selected' : ''}`} href={href('kv', { key: n.path })} aria-current={selected === n.path ? 'true' : undefined}>
                (folder key)
              </a>
            )}
            {!collapsed.has(n.path) && <Tree nodes={n.children} selected={selected} collapsed={collapsed} onToggle={onToggle} />}
          </li>
        ) : (
          <li key={n.path}>
            <a class={`kv-key${selected === n.path ? ' selected' : ''}`} href={href('kv', { key: n.path })} aria-current={selected === n.path ? 'true' : undefined} data-key={n.path}>
              {n.name}
              {n.entry?.secret && (
                <span class="tag tag-secret" title="secret: masked until revealed">
                  secret
                </span>
              )}
            </a>
          </li>
        ),
      )}
    </ul>
  );
}

function countKeys(n: KvNode): number {
  return (n.children ?? []).reduce((c, ch) => c + (ch.children ? countKeys(ch) + (ch.entry ? 1 : 0) : 1), 0);
}

/** A value as text: pretty JSON when it is JSON (with a switch to the raw text). */
function ValueView({ text }: { text: string }) {
  const pretty = useMemo(() => prettyJson(text), [text]);
  const [raw, setRaw] = useState(false);
  if (text === '') return <p class="muted value-empty">(empty value)</p>;
  return (
    <div class="value-view">
      {pretty !== undefined && (
        <div class="value-switch">
          <span class="tag">JSON</span>
          <button type="button" class="btn btn-small btn-quiet" aria-pressed={raw} onClick={() => setRaw(!raw)}>
            {raw ? 'Show pretty' : 'Show raw'}
          </button>
        </div>
      )}
      <pre class={`kv-value${pretty !== undefined && !raw ? ' json' : ''}`} data-testid="kv-value">
        {pretty !== undefined && !raw ? pretty : text}
      </pre>
    </div>
  );
}

interface Conflict {
  message: string;
  current?: { modifyIndex: number; value: string | null };
}

/** The selected key: its value, reveal, edit (CAS), delete (CAS). */
function KeyDetail({ entry, authenticated }: { entry: KvEntryView; authenticated: boolean }) {
  const [revealed, setRevealed] = useState<{ modifyIndex: number; value: string | null; base64: string } | undefined>(undefined);
  const [editing, setEditing] = useState<{ base: number; text: string } | undefined>(undefined);
  const [conflict, setConflict] = useState<Conflict | undefined>(undefined);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  const stale = revealed !== undefined && revealed.modifyIndex !== entry.modifyIndex;
  const masked = entry.secret && (!revealed || stale);
  const shownValue = masked ? null : revealed && !stale ? revealed.value : entry.value;
  const changedWhileEditing = editing !== undefined && editing.base !== entry.modifyIndex;

  const reveal = async (): Promise<string | null | undefined> => {
    setBusy('reveal');
    setError(undefined);
    try {
      const v = await api.kvGet(entry.key);
      setRevealed({ modifyIndex: v.modifyIndex, value: v.value, base64: v.base64 });
      return v.value;
    } catch (err) {
      setError((err as Error).message);
      return undefined;
    } finally {
      setBusy(undefined);
    }
  };

  const startEdit = async () => {
    setConflict(undefined);
    let text = shownValue;
    if (text === null || text === undefined) text = (await reveal()) ?? null;
    if (text === null) {
      setError(`${entry.key} holds ${entry.binary ? 'binary data' : 'a value that is not text'}; it cannot be edited here (delete it or use machineroom kv put).`);
      return;
    }
    setEditing({ base: entry.modifyIndex, text });
  };

  const save = async (cas: number) => {
    if (!editing) return;
    setBusy('save');
    setError(undefined);
    try {
      await api.kvPut(entry.key, editing.text, cas);
      if (entry.secret) setRevealed(undefined); // masked again after a save
      setEditing(undefined);
      setConflict(undefined);
      notify('ok', `Saved ${entry.key}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setConflict({ message: err.message, ...(err.current ? { current: err.current } : {}) });
      else setError((err as Error).message);
    } finally {
      setBusy(undefined);
    }
  };

  const remove = async () => {
    setBusy('delete');
    setError(undefined);
    try {
      await api.kvDelete(entry.key, entry.modifyIndex);
      notify('ok', `Deleted ${entry.key}`);
      location.hash = href('kv');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setConflict({ message: err.message, ...(err.current ? { current: err.current } : {}) });
      else setError((err as Error).message);
      setConfirmDelete(false);
    } finally {
      setBusy(undefined);
    }
  };

  const theirs = conflict?.current;
  return (
    <article class="card kv-detail" aria-labelledby="kv-key-title" data-key={entry.key}>
      <header class="card-head">
        <h2 id="kv-key-title" class="mono kv-title">
          {entry.key}
        </h2>
        {entry.secret && <span class="tag tag-secret">secret</span>}
        {entry.binary && <span class="tag">binary</span>}
        {entry.session && <span class="tag" title={`locked by session ${entry.session}`}>locked</span>}
      </header>
      <dl class="facts">
        <div>
          <dt>Modify index</dt>
          <dd class="mono" data-testid="kv-modify-index">
            {entry.modifyIndex}
          </dd>
        </div>
        <div>
          <dt>Create index</dt>
          <dd class="mono">{entry.createIndex}</dd>
        </div>
        <div>
          <dt>Flags</dt>
          <dd class="mono">{entry.flags}</dd>
        </div>
        <div>
          <dt>Size</dt>
          <dd>{formatBytes(entry.size)}</dd>
        </div>
      </dl>

      {error && (
        <p class="notice notice-error" role="alert">
          {error}
        </p>
      )}

      {conflict && (
        <div class="conflict" role="alert" data-testid="kv-conflict">
          <h3>Conflict: someone else changed this key</h3>
          <p>{conflict.message}</p>
          {theirs && (
            <div class="conflict-values">
              <div>
                <h4>Theirs (index {theirs.modifyIndex})</h4>
                {entry.secret ? <p class="muted">secret: reveal it after the conflict to see it</p> : theirs.value === null ? <p class="muted">not text</p> : <pre class="kv-value">{theirs.value}</pre>}
              </div>
              <div>
                <h4>Yours</h4>
                <pre class="kv-value">{entry.secret ? '•'.repeat(Math.min(editing?.text.length ?? 8, 24)) : editing?.text}</pre>
              </div>
            </div>
          )}
          <div class="button-row">
            <button
              type="button"
              class="btn"
              onClick={() => {
                setEditing(undefined);
                setConflict(undefined);
                setRevealed(undefined);
              }}
            >
              Discard mine, keep theirs
            </button>
            {theirs && editing && (
              <button type="button" class="btn btn-danger" disabled={busy !== undefined} onClick={() => save(theirs.modifyIndex)}>
                Overwrite with mine
              </button>
            )}
          </div>
        </div>
      )}

      {editing ? (
        <form
          class="kv-editor"
          onSubmit={(e) => {
            e.preventDefault();
            void save(editing.base);
          }}
        >
          <label class="field field-block">
            <span>Value of {entry.key}</span>
            <textarea
              rows={Math.min(20, Math.max(4, editing.text.split('\n').length + 1))}
              value={editing.text}
              onInput={(e) => setEditing({ ...editing, text: e.currentTarget.value })}
              spellcheck={false}
              class="mono"
              data-testid="kv-editor"
            />
          </label>
          {changedWhileEditing && !conflict && (
            <p class="warning" role="status">
              This key changed since you began editing (now at index {entry.modifyIndex}); saving will report a conflict.
            </p>
          )}
          <div class="button-row">
            <button type="submit" class="btn btn-primary" disabled={busy !== undefined}>
              {busy === 'save' ? 'Saving…' : 'Save'}
            </button>
            {prettyJson(editing.text) !== undefined && (
              <button type="button" class="btn" onClick={() => setEditing({ ...editing, text: prettyJson(editing.text)! })}>
                Format JSON
              </button>
            )}
            <button
              type="button"
              class="btn btn-quiet"
              onClick={() => {
                setEditing(undefined);
                setConflict(undefined);
              }}
            >
              Cancel
            </button>
            <span class="muted hint">Saved only if the key is still at index {editing.base}.</span>
          </div>
        </form>
      ) : (
        <>
          {masked ? (
            <div class="masked">
              <span class="mask" aria-label="masked secret value">
                ••••••••••••
              </span>
              <span class="muted">secret · {formatBytes(entry.size)}</span>
              {stale && <span class="muted"> · changed since revealed</span>}
            </div>
          ) : shownValue === null || shownValue === undefined ? (
            <p class="muted">{entry.binary ? `Binary value, ${formatBytes(entry.size)}.` : `Not shown (${formatBytes(entry.size)}); reveal to load it.`}</p>
          ) : (
            <ValueView text={shownValue} />
          )}
          {revealed && !stale && revealed.value === null && (
            <p>
              <span class="muted">Base64: </span>
              <code class="mono wrap">{revealed.base64}</code>
            </p>
          )}
          <div class="button-row">
            {(masked || shownValue === null) && (
              <button type="button" class="btn" onClick={() => void reveal()} disabled={!authenticated || busy !== undefined}>
                {busy === 'reveal' ? 'Revealing…' : 'Reveal'}
              </button>
            )}
            {entry.secret && revealed && !stale && (
              <button type="button" class="btn" onClick={() => setRevealed(undefined)}>
                Hide
              </button>
            )}
            <button type="button" class="btn btn-primary" onClick={() => void startEdit()} disabled={!authenticated || busy !== undefined || entry.binary}>
              Edit
            </button>
            {confirmDelete ? (
              <>
                <button type="button" class="btn btn-danger" onClick={() => void remove()} disabled={busy !== undefined}>
                  {busy === 'delete' ? 'Deleting…' : `Really delete ${entry.key}`}
                </button>
                <button type="button" class="btn btn-quiet" onClick={() => setConfirmDelete(false)}>
                  Keep it
                </button>
              </>
            ) : (
              <button type="button" class="btn btn-danger" onClick={() => setConfirmDelete(true)} disabled={!authenticated || busy !== undefined}>
                Delete
              </button>
            )}
          </div>
          {!authenticated && <p class="muted hint">Read-only: <SignInHint />.</p>}
        </>
      )}
    </article>
  );
}

/** Creates a key (CAS 0: only if it does not exist yet). */
function NewKey({ prefix, onDone }: { prefix: string; onDone: (key?: string) => void }) {
  const [key, setKey] = useState(prefix);
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const problem = key.trim() === '' ? 'a key is needed' : key.startsWith('/') ? 'keys do not start with "/"' : undefined;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (problem) return setError(`Key: ${problem}.`);
    setBusy(true);
    setError(undefined);
    try {
      await api.kvPut(key, value, 0);
      notify('ok', `Created ${key}`);
      onDone(key);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? `${key} already exists: open it to edit it.` : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card kv-new" onSubmit={submit} aria-labelledby="kv-new-title">
      <h2 id="kv-new-title">New key</h2>
      <label class="field field-block">
        <span>Key</span>
        <input type="text" class="mono" value={key} onInput={(e) => setKey(e.currentTarget.value)} required placeholder="config/feature-x" aria-invalid={error !== undefined && problem !== undefined} />
      </label>
      <label class="field field-block">
        <span>Value</span>
        <textarea rows={6} class="mono" value={value} onInput={(e) => setValue(e.currentTarget.value)} spellcheck={false} />
      </label>
      {error && (
        <p class="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <div class="button-row">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create'}
        </button>
        <button type="button" class="btn btn-quiet" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The KV page. */
export function KvPage({ query }: { query: URLSearchParams }) {
  const kv = useStore(room, (s) => s.kv);
  const authenticated = useStore(room, (s) => s.authenticated);
  const [filter, setFilter] = useState('');
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [creating, setCreating] = useState(false);
  const selected = query.get('key') ?? undefined;
  const tree = useMemo(() => buildKvTree(kv?.entries ?? [], filter), [kv, filter]);
  const entry = selected !== undefined ? kv?.entries.find((e) => e.key === selected) : undefined;
  useEffect(() => setCreating(false), [selected]);

  const toggle = (path: string) => {
    const next = new Set(collapsed);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    setCollapsed(next);
  };
  const prefix = selected ? selected.slice(0, selected.lastIndexOf('/') + 1) : '';

  return (
    <section class="kv-page" aria-labelledby="kv-title">
      <div class="page-head">
        <h1 id="kv-title">
          KV store {kv && <span class="count">{kv.entries.length} keys</span>}
        </h1>
        <p class="muted">The service bus’s key/value store{kv ? `, at index ${kv.index}` : ''}. Changes apply at once: apps watching a key see them live.</p>
      </div>
      <div class="kv-layout">
        <nav class="kv-browser card" aria-label="Keys">
          <div class="kv-browser-head">
            <label class="field field-block">
              <span>Filter keys</span>
              <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} placeholder="postgres/" />
            </label>
            <button type="button" class="btn btn-primary" onClick={() => setCreating(true)} disabled={!authenticated} title={authenticated ? undefined : `Read-only: ${SIGN_IN_HINT}`}>
              New key
            </button>
          </div>
          {!kv ? (
            <p class="empty">Loading…</p>
          ) : kv.entries.length === 0 ? (
            <p class="empty">The store is empty. Create a key, or seed keys under kv: in machineroom.yml.</p>
          ) : tree.length === 0 ? (
            <p class="empty">No key contains “{filter}”.</p>
          ) : (
            <Tree nodes={tree} selected={selected} collapsed={collapsed} onToggle={toggle} />
          )}
        </nav>
        <div class="kv-main">
          {creating ? (
            <NewKey
              prefix={prefix}
              onDone={(key) => {
                setCreating(false);
                if (key) location.hash = href('kv', { key });
              }}
            />
          ) : entry ? (
            <KeyDetail key={entry.key} entry={entry} authenticated={authenticated} />
          ) : selected !== undefined && kv ? (
            <p class="empty card">
              There is no key <code class="mono">{selected}</code> (any more). Pick one on the left.
            </p>
          ) : (
            <p class="empty card">Pick a key on the left to see its value{authenticated ? ', edit or delete it' : ''}.</p>
          )}
        </div>
      </div>
    </section>
  );
}
