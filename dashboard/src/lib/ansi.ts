// A log line's terminal colours as spans: anser parses the SGR codes into plain data (never HTML); the 16 basic colours
// become classes (themed for light and dark in styles.css), 256-colour and true colours an rgb() set through CSSOM.
import Anser from 'anser';

/** A run of text with one look. */
export interface AnsiSegment {
  text: string;
  /** ansi-red-fg, ansi-bright-blue-bg, ansi-bold, ... */
  classes: string[];
  /** A CSS colour for 256-colour and 24-bit foregrounds. */
  color?: string;
  background?: string;
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** The xterm 256-colour palette's entries 16–255 as rgb(). */
export function paletteColor(n: number): string {
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v}, ${v}, ${v})`;
  }
  const i = n - 16;
  return `rgb(${CUBE[Math.floor(i / 36) % 6]}, ${CUBE[Math.floor(i / 6) % 6]}, ${CUBE[i % 6]})`;
}

/** One side (fg or bg) of a chunk: a class for the basic colours, a CSS colour otherwise. */
function side(name: string | null, truecolor: string | null, suffix: 'fg' | 'bg'): { cls?: string; css?: string } {
  if (!name) return {};
  if (name === 'ansi-truecolor' && truecolor) return { css: `rgb(${truecolor})` };
  const palette = /^ansi-palette-(\d+)$/.exec(name);
  if (palette) return { css: paletteColor(Number(palette[1])) };
  if (/^ansi-(bright-)?(black|red|green|yellow|blue|magenta|cyan|white)$/.test(name)) return { cls: `${name}-${suffix}` };
  return {};
}

/** Splits a line into runs of text with their colours and decorations; escape codes never reach the text. */
export function parseAnsi(line: string): AnsiSegment[] {
  if (!line.includes('\u001b')) return line === '' ? [] : [{ text: line, classes: [] }];
  const out: AnsiSegment[] = [];
  for (const chunk of Anser.ansiToJson(line, { use_classes: true, remove_empty: true })) {
    if (!chunk.content) continue;
    const seg: AnsiSegment = { text: chunk.content, classes: [] };
    const fg = side(chunk.fg, chunk.fg_truecolor, 'fg');
    const bg = side(chunk.bg, chunk.bg_truecolor, 'bg');
    if (fg.cls) seg.classes.push(fg.cls);
    if (bg.cls) seg.classes.push(bg.cls);
    if (fg.css) seg.color = fg.css;
    if (bg.css) seg.background = bg.css;
    for (const d of chunk.decorations) seg.classes.push(`ansi-${d}`);
    out.push(seg);
  }
  return out;
}

/** The line without its escape codes (what text filters match against). */
export function stripAnsi(line: string): string {
  return line.includes('\u001b') ? parseAnsi(line).map((s) => s.text).join('') : line;
}
