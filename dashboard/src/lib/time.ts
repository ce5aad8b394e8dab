// Times as a person reads them: "12s ago", "3m 20s", "14:02:11.042".
import { useEffect, useState } from 'preact/hooks';

/** How long `ms` is, in the two largest units: "850ms", "42s", "3m 20s", "2h 5m", "3d 4h". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `then` relative to `now`: "just now", "12s ago", "3m ago", "in 5s". */
export function formatRelative(then: number, now: number): string {
  const d = now - then;
  if (Math.abs(d) < 1500) return 'just now';
  const text = formatDuration(Math.abs(d)).split(' ')[0]!;
  return d > 0 ? `${text} ago` : `in ${text}`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local wall-clock time with milliseconds, as log lines show it. */
export function formatClock(ts: number): string {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Full local date and time, for a title attribute. */
export function formatFull(ts: number): string {
  return new Date(ts).toLocaleString();
}

const tickers = new Set<(now: number) => void>();
let timer: ReturnType<typeof setInterval> | undefined;

/** The current time, re-rendering the component every second (one shared timer for the whole page). */
export function useNow(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    tickers.add(setNow);
    timer ??= setInterval(() => {
      const t = Date.now();
      for (const fn of tickers) fn(t);
    }, 1000);
    return () => {
      tickers.delete(setNow);
      if (tickers.size === 0 && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    };
  }, []);
  return now;
}
