// Compose-style variable interpolation in one string: $VAR, ${VAR}, ${VAR:-default}, ${VAR:?message}, $$.

/** The expanded text, or why it could not be expanded. `substituted` is true when a variable was read. */
export type InterpolationResult = { ok: true; value: string; substituted: boolean } | { ok: false; message: string };

/** Reads a variable; undefined when it is unset. */
export type VariableLookup = (name: string) => string | undefined;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*/;
const BRACED_RE = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/;

class InterpolationFailure extends Error {}

/** Expands every variable reference in a string, as Compose does for config values. */
export function interpolateText(text: string, lookup: VariableLookup): InterpolationResult {
  const state = { substituted: false };
  try {
    return { ok: true, value: expand(text, lookup, state), substituted: state.substituted };
  } catch (err) {
    if (err instanceof InterpolationFailure) return { ok: false, message: err.message };
    throw err;
  }
}

function expand(text: string, lookup: VariableLookup, state: { substituted: boolean }): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) return out + text.slice(i);
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (next === '{') {
      const end = findClosingBrace(text, dollar + 2);
      if (end < 0) throw new InterpolationFailure(`unterminated "\${" in ${JSON.stringify(text)}; close it with "}" or write "$$" for a literal "$"`);
      out += expandBraced(text.slice(dollar + 2, end), lookup, state);
      i = end + 1;
    } else {
      const name = NAME_RE.exec(text.slice(dollar + 1))?.[0];
      if (name === undefined) throw new InterpolationFailure(`invalid "$" in ${JSON.stringify(text)}; write "$$" for a literal "$"`);
      state.substituted = true;
      out += lookup(name) ?? '';
      i = dollar + 1 + name.length;
    }
  }
  return out;
}

function findClosingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && (text[i + 1] === '$' || text[i + 1] === '{')) {
      if (text[i + 1] === '{') depth++;
      i++;
    } else if (text[i] === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function expandBraced(inner: string, lookup: VariableLookup, state: { substituted: boolean }): string {
  const match = BRACED_RE.exec(inner);
  if (!match) throw new InterpolationFailure(`invalid interpolation "\${${inner}}"; use \${NAME}, \${NAME:-default} or \${NAME:?message}`);
  const [, name, operator, word = ''] = match as unknown as [string, string, string | undefined, string | undefined];
  state.substituted = true;
  const value = lookup(name);
  const missing = operator?.startsWith(':') ? value === undefined || value === '' : value === undefined;
  switch (operator) {
    case undefined:
      return value ?? '';
    case ':-':
    case '-':
      return missing ? expand(word, lookup, state) : value!;
    case ':+':
    case '+':
      return missing ? '' : expand(word, lookup, state);
    default:
      if (missing) throw new InterpolationFailure(describeRequired(name, operator, expandQuietly(word, lookup)));
      return value!;
  }
}

function describeRequired(name: string, operator: string, message: string): string {
  const state = operator === ':?' ? 'is unset or empty' : 'is unset';
  return `required variable ${name} ${state}${message === '' ? '' : ` (${message})`}; set it in the environment or in .env`;
}

function expandQuietly(word: string, lookup: VariableLookup): string {
  const result = interpolateText(word, lookup);
  return result.ok ? result.value : word;
}
