// Unit: terminal output helpers — durations for people, ANSI-safe tables, log line prefixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogLine, humanDuration, paint, serviceColor, table } from '../../src/cli/output.js';
import type { LogLine } from '../../src/supervisor/index.js';

// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

test('humanDuration: ms, seconds with one decimal under 10s, m/s, h/m', () => {
  assert.equal(humanDuration(0), '0ms');
  assert.equal(humanDuration(850), '850ms');
  assert.equal(humanDuration(-5), '0ms');
  assert.equal(humanDuration(1000), '1.0s');
  assert.equal(humanDuration(1200), '1.2s');
  assert.equal(humanDuration(9_940), '9.9s');
  assert.equal(humanDuration(12_400), '12s');
  assert.equal(humanDuration(59_000), '59s');
  assert.equal(humanDuration(60_000), '1m00s');
  assert.equal(humanDuration(185_000), '3m05s');
  assert.equal(humanDuration(3_599_000), '59m59s');
  assert.equal(humanDuration(3_600_000), '1h00m');
  assert.equal(humanDuration(7_800_000), '2h10m');
  assert.equal(humanDuration(50 * 3_600_000), '50h00m');
});

test(
  'humanDuration: rounding never produces a value of the next unit ("1000ms", "10.0s", "60s")',
  () => {
    assert.equal(humanDuration(999.6), '1.0s');
    assert.equal(humanDuration(9_960), '10s');
    assert.equal(humanDuration(59_600), '1m00s');
  },
);

test('table: columns align on visible width, ignoring ANSI colour codes', () => {
  const rows = [
    [paint('web.1', 'green', true), paint('running', 'green', true), '8080'],
    ['api.10', 'crashloop', '9'],
  ];
  const out = table(['NAME', 'STATE', 'PORT'], rows, true);
  const lines = out.split('\n').map(strip);
  assert.deepEqual(lines, ['NAME    STATE      PORT', 'web.1   running    8080', 'api.10  crashloop  9']);
  // The header is bold when colour is on, plain when off.
  assert.ok(out.split('\n')[0]!.startsWith('\u001b[1m'));
  assert.equal(table(['A', 'B'], [['x', 'y']], false), 'A  B\nx  y');
});

test('table: the last column is not padded, and missing cells count as empty', () => {
  const out = table(['A', 'LONG HEADER'], [['1'], ['22', 'v']], false);
  assert.deepEqual(out.split('\n'), ['A   LONG HEADER', '1', '22  v']);
  for (const l of out.split('\n')) assert.ok(!/ $/.test(l), JSON.stringify(l));
});

const base: LogLine = { ts: Date.UTC(2024, 0, 2, 3, 4, 5, 6), source: 'web.1', service: 'web', stream: 'stdout', text: 'hello' };

test('formatLogLine: stdout is marked "|", stderr "!", names padded to the width', () => {
  assert.equal(formatLogLine(base, { width: 8, timestamps: false, color: false }), 'web.1    | hello');
  assert.equal(formatLogLine({ ...base, stream: 'stderr', text: 'boom' }, { width: 8, timestamps: false, color: false }), 'web.1    ! boom');
  assert.equal(formatLogLine({ ...base, source: 'machineroom', service: 'machineroom', stream: 'event', text: 'web.1 started' }, { width: 11, timestamps: false, color: false }), 'machineroom | web.1 started');
});

test('formatLogLine: timestamps are ISO, first', () => {
  assert.equal(formatLogLine(base, { width: 5, timestamps: true, color: false }), '2024-01-02T03:04:05.006Z web.1 | hello');
});

test('formatLogLine: with colour, the text is unchanged and the marks survive', () => {
  const out = formatLogLine({ ...base, stream: 'stderr' }, { width: 5, timestamps: false, color: true });
  assert.notEqual(out, strip(out));
  assert.equal(strip(out), 'web.1 ! hello');
  assert.ok(out.includes('\u001b[31m!'), 'stderr mark in red');
  assert.equal(strip(formatLogLine(base, { width: 5, timestamps: false, color: true })), 'web.1 | hello');
});

test('serviceColor is stable per service name', () => {
  assert.equal(serviceColor('alpha'), serviceColor('alpha'));
  assert.equal(formatLogLine({ ...base, source: 'web.2' }, { width: 5, timestamps: false, color: true }).slice(0, 5), formatLogLine(base, { width: 5, timestamps: false, color: true }).slice(0, 5));
});
