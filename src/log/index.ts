// One logger with named debug channels (DEBUG=machineroom:dns); the only place outside src/cli that writes to stderr.

/** A channel's logger. `debug` prints only when DEBUG enables the channel. */
export interface Logger {
  readonly channel: string;
  readonly debugEnabled: boolean;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

type Sink = (line: string) => void;

let sink: Sink = (line) => {
  process.stderr.write(line + '\n');
};

/** Redirects all log output (the detached daemon writes to its log file; tests capture). */
export function setLogSink(next: Sink): void {
  sink = next;
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Whether DEBUG (comma or space separated, `*` wildcards, `-` to exclude) enables a channel. */
export function isDebugEnabled(channel: string, debugEnv: string | undefined = process.env.DEBUG): boolean {
  if (!debugEnv) return false;
  const name = `machineroom:${channel}`;
  let enabled = false;
  for (const raw of debugEnv.split(/[\s,]+/)) {
    if (!raw) continue;
    if (raw.startsWith('-')) {
      if (patternToRegExp(raw.slice(1)).test(name)) return false;
    } else if (patternToRegExp(raw).test(name)) {
      enabled = true;
    }
  }
  return enabled;
}

function render(level: string, channel: string, message: string, args: unknown[]): string {
  const extra = args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return `${new Date().toISOString()} ${level} machineroom:${channel} ${message}${extra ? ' ' + extra : ''}`;
}

/** Creates the logger for one channel, e.g. createLogger('supervisor'). */
export function createLogger(channel: string): Logger {
  const debugEnabled = isDebugEnabled(channel);
  return {
    channel,
    debugEnabled,
    debug: (m, ...a) => {
      if (debugEnabled) sink(render('debug', channel, m, a));
    },
    info: (m, ...a) => sink(render('info', channel, m, a)),
    warn: (m, ...a) => sink(render('warn', channel, m, a)),
    error: (m, ...a) => sink(render('error', channel, m, a)),
  };
}
