// Go's time.Duration text ("15s", "1m30s", "250ms", "24h0m0s"): Consul's session API speaks it, to the nanosecond.

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5
  'μs': 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const PART_RE = /^([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/;

/** Parses Go duration text to nanoseconds, or returns Go's error text (`time: invalid duration "x"`). */
export function parseGoDuration(text: string): { ns: number } | { error: string } {
  const invalid = { error: `time: invalid duration ${JSON.stringify(text)}` };
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return { ns: 0 };
  if (rest === '') return invalid;
  let total = 0;
  while (rest !== '') {
    const m = PART_RE.exec(rest);
    if (!m) {
      return /^[0-9.]+$/.test(rest) ? { error: `time: missing unit in duration ${JSON.stringify(text)}` } : invalid;
    }
    const [whole, amount, unit] = m as unknown as [string, string, string];
    if (amount === '' || amount === '.') return invalid;
    const scale = UNIT_NS[unit];
    if (scale === undefined) return { error: `time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(text)}` };
    total += Number(amount) * scale;
    rest = rest.slice(whole.length);
  }
  return { ns: sign * Math.round(total) };
}

/** Formats nanoseconds as Go's Duration.String() does: 10s, 24h0m0s, 1m30s, 250ms, 1.5µs, 0s. */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(Math.round(ns));
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${trimFraction(n / 1e3)}µs`;
  if (n < 1e9) return `${sign}${trimFraction(n / 1e6)}ms`;
  const hours = Math.floor(n / 3600e9);
  n -= hours * 3600e9;
  const minutes = Math.floor(n / 60e9);
  n -= minutes * 60e9;
  const seconds = `${trimFraction(n / 1e9)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

function trimFraction(v: number): string {
  return String(Number(v.toFixed(9)));
}
