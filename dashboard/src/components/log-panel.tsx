// Live log lines with the terminal's colours, filters (service, instance, stream, text), pause/resume and "jump to now".
// Every line is text: ANSI codes are parsed into spans, never HTML.
import { Component } from 'preact';
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { LogRow } from '../state/room.js';
import { parseAnsi, stripAnsi } from '../lib/ansi.js';
import type { AnsiSegment } from '../lib/ansi.js';
import { ChoiceField } from './choice-field.js';
import { formatClock, formatFull } from '../lib/time.js';

/** Which lines to show. */
export interface LogFilter {
  service?: string;
  instance?: string;
  stream?: 'stdout' | 'stderr' | 'event';
  q?: string;
}

/** How many matching lines are rendered at most (the newest). */
export const RENDER_LIMIT = 1000;

const segmentsCache = new WeakMap<LogRow, AnsiSegment[]>();
const segmentsOf = (row: LogRow) => {
  let s = segmentsCache.get(row);
  if (!s) segmentsCache.set(row, (s = parseAnsi(row.text)));
  return s;
};
const plainCache = new WeakMap<LogRow, string>();
const plainOf = (row: LogRow) => {
  let s = plainCache.get(row);
  if (s === undefined) plainCache.set(row, (s = stripAnsi(row.text).toLowerCase()));
  return s;
};

/** A stable colour (one of eight) per source name, so each instance's lines are told apart at a glance. */
export function sourceColor(source: string): number {
  if (source === 'machineroom') return 0;
  let h = 0;
  for (let i = 0; i < source.length; i++) h = (h * 31 + source.charCodeAt(i)) >>> 0;
  return 1 + (h % 7);
}

/** Whether `row` passes `f`. */
export function matches(row: LogRow, f: LogFilter): boolean {
  if (f.instance && row.source !== f.instance) return false;
  if (f.service && row.service !== f.service) return false;
  if (f.stream && row.stream !== f.stream) return false;
  if (f.q && !plainOf(row).includes(f.q.toLowerCase())) return false;
  return true;
}

/** One line; re-renders only when its row object changes. */
class LogLineRow extends Component<{ row: LogRow }> {
  override shouldComponentUpdate(next: { row: LogRow }) {
    return next.row !== this.props.row;
  }
  override render() {
    const { row } = this.props;
    return (
      <div class={`log-line stream-${row.stream}`} data-source={row.source}>
        <time class="log-time" dateTime={new Date(row.ts).toISOString()} title={formatFull(row.ts)}>
          {formatClock(row.ts)}
        </time>
        <span class={`log-source src-${sourceColor(row.source)}`}>{row.source}</span>
        <span class="log-stream" title={row.stream}>
          {row.stream === 'stderr' ? '!' : row.stream === 'event' ? '•' : '|'}
        </span>
        <span class="log-text">
          {segmentsOf(row).map((seg, i) =>
            seg.classes.length || seg.color || seg.background ? (
              <span key={i} class={seg.classes.join(' ') || undefined} style={seg.color || seg.background ? { color: seg.color, backgroundColor: seg.background } : undefined}>
                {seg.text}
              </span>
            ) : (
              seg.text
            ),
          )}
        </span>
      </div>
    );
  }
}

/** The log panel's props: every line the page has, the filter, and the choices for its selects. */
export interface LogPanelProps {
  lines: LogRow[];
  filter: LogFilter;
  onFilter: (f: LogFilter) => void;
  /** Service names for the service select; omitted: no service select (a panel fixed to one service). */
  services?: string[];
  /** Instance names for the instance select. */
  instances: string[];
  /** Lines dropped from the page's buffer so far. */
  trimmed: number;
  label: string;
  /** Taller when it is the page's main content. */
  tall?: boolean;
}

/** The log panel. */
export function LogPanel({ lines, filter, onFilter, services, instances, trimmed, label, tall }: LogPanelProps) {
  const [pausedAt, setPausedAt] = useState<number | undefined>(undefined);
  const [follow, setFollow] = useState(true);
  const scroller = useRef<HTMLDivElement>(null);
  const lastId = lines.length ? lines[lines.length - 1]!.id : 0;

  const matching = useMemo(() => lines.filter((l) => matches(l, filter)), [lines, filter]);
  const upTo = pausedAt === undefined ? matching : matching.filter((l) => l.id <= pausedAt);
  const newWhilePaused = pausedAt === undefined ? 0 : matching.length - upTo.length;
  const shown = upTo.length > RENDER_LIMIT ? upTo.slice(upTo.length - RENDER_LIMIT) : upTo;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && follow && pausedAt === undefined) el.scrollTop = el.scrollHeight;
  });

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (atBottom !== follow) setFollow(atBottom);
  };
  const jumpToNow = () => {
    setPausedAt(undefined);
    setFollow(true);
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  };
  const set = (patch: Partial<LogFilter>) => onFilter({ ...filter, ...patch });
  const id = label.replace(/\W+/g, '-').toLowerCase();

  return (
    <section class={`log-panel${tall ? ' log-panel-tall' : ''}`} aria-label={label}>
      <div class="toolbar" role="toolbar" aria-label="Log filters">
        {services && <ChoiceField label="Service" all="All services" value={filter.service ?? ''} choices={services} onChange={(v) => set({ service: v || undefined, instance: undefined })} />}
        <ChoiceField label="Instance" all="All instances" value={filter.instance ?? ''} choices={instances} onChange={(v) => set({ instance: v || undefined })} />
        <label class="field">
          <span>Stream</span>
          <select value={filter.stream ?? ''} onChange={(e) => set({ stream: (e.currentTarget.value || undefined) as LogFilter['stream'] })}>
            <option value="">All streams</option>
            <option value="stdout">stdout</option>
            <option value="stderr">stderr</option>
            <option value="event">machineroom events</option>
          </select>
        </label>
        <label class="field field-grow">
          <span>Text</span>
          <input type="search" placeholder="Filter lines…" value={filter.q ?? ''} onInput={(e) => set({ q: e.currentTarget.value || undefined })} />
        </label>
        <div class="toolbar-actions">
          {pausedAt === undefined ? (
            <button type="button" class="btn" onClick={() => setPausedAt(lastId)} aria-describedby={`${id}-state`}>
              Pause
            </button>
          ) : (
            <button type="button" class="btn btn-primary" onClick={() => setPausedAt(undefined)} aria-describedby={`${id}-state`}>
              Resume{newWhilePaused ? ` (${newWhilePaused} new)` : ''}
            </button>
          )}
          <button type="button" class="btn" onClick={jumpToNow} disabled={follow && pausedAt === undefined}>
            Jump to now
          </button>
        </div>
      </div>
      <p class="log-state muted" id={`${id}-state`} role="status">
        {pausedAt !== undefined ? `Paused — ${newWhilePaused} new line${newWhilePaused === 1 ? '' : 's'} since` : follow ? 'Live' : 'Scrolled back — live lines keep arriving below'}
        {' · '}
        {matching.length === lines.length ? `${lines.length} lines` : `${matching.length} of ${lines.length} lines match`}
        {upTo.length > shown.length ? ` · showing the newest ${shown.length}` : ''}
        {trimmed ? ` · ${trimmed} older lines dropped from this page` : ''}
      </p>
      <div class="log-scroll" ref={scroller} onScroll={onScroll} tabIndex={0} role="log" aria-live="off" aria-label={`${label}: lines`}>
        {shown.length === 0 ? (
          <p class="empty">{lines.length === 0 ? 'No output yet. Lines appear here as the instances print them.' : 'No line matches these filters.'}</p>
        ) : (
          shown.map((row) => <LogLineRow key={row.id} row={row} />)
        )}
      </div>
    </section>
  );
}
