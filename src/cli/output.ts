// Terminal output: colours (off when not a TTY or with NO_COLOR), stable per-service colours, tables, durations.
import type { LogLine } from '../supervisor/index.js';

/** Whether to colour a stream. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39], magenta: [35, 39], cyan: [36, 39], gray: [90, 39] } as const;
/** A style name. */
export type Style = keyof typeof CODES;

/** Styles text when colour is on. */
export function paint(text: string, style: Style, on = useColor()): string {
  if (!on) return text;
  const [a, b] = CODES[style];
  return `\u001b[${a}m${text}\u001b[${b}m`;
}

const PALETTE: Style[] = ['cyan', 'yellow', 'green', 'magenta', 'blue', 'red'];

/** A stable colour per service name, so alpha is always the same colour. */
export function serviceColor(service: string): Style {
  let h = 0;
  for (const ch of service) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

/** Formats one log line: `alpha.1 | text` (stdout), `alpha.1 ! text` (stderr), events in bold. */
export function formatLogLine(line: LogLine, opts: { width: number; timestamps: boolean; color: boolean }): string {
  const name = line.source.padEnd(opts.width);
  const ts = opts.timestamps ? paint(new Date(line.ts).toISOString() + ' ', 'gray', opts.color) : '';
  if (line.stream === 'event') return `${ts}${paint(name + ' |', 'bold', opts.color)} ${paint(line.text, 'bold', opts.color)}`;
  const color = serviceColor(line.service);
  const sep = line.stream === 'stderr' ? paint('!', 'red', opts.color) : paint('|', color, opts.color);
  return `${ts}${paint(name, color, opts.color)} ${sep} ${line.text}`;
}

/** Formats milliseconds for people: 850ms, 1.2s, 3m05s, 2h10m. */
export function humanDuration(ms: number): string {
  // Round first, then pick the unit, so 999.6ms reads "1.0s" and 59.6s reads "1m00s", never "1000ms" or "60s".
  const whole = Math.max(0, Math.round(ms));
  if (whole < 1000) return `${whole}ms`;
  if (whole < 9950) return `${(whole / 1000).toFixed(1)}s`;
  const s = Math.round(whole / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Renders rows as an aligned table (ANSI codes do not count towards widths). */
export function table(header: string[], rows: string[][], color = useColor()): string {
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visible(c)))).join('  ');
  return [paint(line(header), 'bold', color), ...rows.map(line)].join('\n');
}
