// What every benchmark report needs: plain and Markdown tables, and how busy the machine was.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table in Markdown (for closing notes); "|" inside cells is escaped. */
export function markdown(headers: string[], rows: string[][]): string {
  const cell = (c: string): string => c.replace(/\|/g, '\\|');
  return [`| ${headers.map(cell).join(' | ')} |`, `| --- |${' ---: |'.repeat(headers.length - 1)}`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** The share of CPU time busy (not idle or iowait) over `ms`, from /proc/stat; NaN where there is none. */
export async function busyShare(ms: number): Promise<number> {
  const read = (): number[] => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  try {
    const a = read();
    await sleep(ms);
    const b = read();
    const d = b.map((v, i) => v - a[i]!);
    const total = d.reduce((x, y) => x + y, 0);
    return total > 0 ? (total - d[3]! - d[4]!) / total : NaN;
  } catch {
    return NaN;
  }
}
