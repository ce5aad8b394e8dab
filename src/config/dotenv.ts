// dotenv files (.env for interpolation, env_file for services): KEY=VALUE lines, `export`, quotes and comments.

import { MachineroomError } from '../errors/index.js';

/** Where and why a dotenv text stopped parsing (1-based line and column). */
export interface DotenvProblem {
  line: number;
  col: number;
  message: string;
}

/** The values read so far and, when the text is malformed, the first problem. */
export interface DotenvScan {
  values: Record<string, string>;
  problem?: DotenvProblem;
}

const ASSIGNMENT_RE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=/;
const DOUBLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$' };

/** Scans dotenv text without throwing, so callers can report problems with their own file name. */
export function scanDotenv(text: string): DotenvScan {
  const lines = text.split(/\r?\n/);
  const values: Record<string, string> = {};
  let index = 0;
  while (index < lines.length) {
    const lineNo = index + 1;
    const line = lines[index++]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = ASSIGNMENT_RE.exec(line);
    if (!match) return { values, problem: { line: lineNo, col: line.length - line.trimStart().length + 1, message: `expected KEY=VALUE, got ${JSON.stringify(trimmed)}` } };
    const rest = line.slice(match[0].length);
    const valueStart = rest.length - rest.trimStart().length;
    const quote = rest[valueStart];
    if (quote !== '"' && quote !== "'") {
      defineValue(values, match[1]!, stripInlineComment(rest).trim());
      continue;
    }
    const read = readQuoted(rest.slice(valueStart + 1), quote, lines, index);
    if (typeof read === 'string') return { values, problem: { line: lineNo, col: match[0].length + valueStart + 1, message: read } };
    index = read.nextIndex;
    defineValue(values, match[1]!, read.value);
  }
  return { values };
}

/** Parses dotenv text to a map; throws ERR_CONFIG_INVALID naming the line of the first malformed entry. */
export function parseDotenv(text: string): Record<string, string> {
  const scan = scanDotenv(text);
  if (scan.problem) throw new MachineroomError('ERR_CONFIG_INVALID', `line ${scan.problem.line}:${scan.problem.col}: ${scan.problem.message}`, { details: { ...scan.problem } });
  return scan.values;
}

/** Sets a key as an own property, so even "__proto__" is just a variable name. */
function defineValue(values: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
}

function readQuoted(first: string, quote: string, lines: string[], nextIndex: number): { value: string; nextIndex: number } | string {
  let body = first;
  let close = findClosingQuote(body, quote);
  while (close < 0 && nextIndex < lines.length) {
    body += '\n' + lines[nextIndex++];
    close = findClosingQuote(body, quote);
  }
  if (close < 0) return `missing the closing ${quote} quote`;
  const after = body.slice(close + 1).trim();
  if (after !== '' && !after.startsWith('#')) return `unexpected ${JSON.stringify(after)} after the closing ${quote} quote`;
  const inner = body.slice(0, close);
  return { value: quote === '"' ? unescapeDoubleQuoted(inner) : inner, nextIndex };
}

function findClosingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === '\\') i++;
    else if (body[i] === quote) return i;
  }
  return -1;
}

function unescapeDoubleQuoted(inner: string): string {
  return inner.replace(/\\(.)/gs, (whole, char: string) => DOUBLE_ESCAPES[char] ?? whole);
}

function stripInlineComment(value: string): string {
  const hash = value.search(/\s#/);
  return hash < 0 ? value : value.slice(0, hash);
}
