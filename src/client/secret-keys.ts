// Which KV keys hold secrets: the config's `secrets:` prefixes, shared by the CLI (masking) and the daemon (the dashboard).

/** Whether `key` is one of `prefixes` or lies under one (a prefix names a key or a folder, with or without "/"). */
export function isSecretKey(key: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => key === p || key.startsWith(p.endsWith('/') ? p : `${p}/`) || (p.endsWith('/') && key.startsWith(p)));
}
