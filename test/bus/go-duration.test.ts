// Go duration text, as Consul's session API reads and prints it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from '../../src/bus/go-duration.js';
import { parseLockDelayNs } from '../../src/bus/index.js';

test('parseGoDuration reads what time.ParseDuration reads, to the nanosecond', () => {
  const cases: [string, number][] = [
    ['0', 0],
    ['0s', 0],
    ['10s', 10e9],
    ['1m30s', 90e9],
    ['1.5h', 5400e9],
    ['250ms', 250e6],
    ['300us', 300e3],
    ['2µs', 2e3],
    ['2μs', 2e3],
    ['7ns', 7],
    ['.5s', 0.5e9],
    ['-3s', -3e9],
    ['24h', 86400e9],
  ];
  for (const [text, ns] of cases) assert.deepEqual(parseGoDuration(text), { ns }, text);
  assert.deepEqual(parseGoDuration('soon'), { error: 'time: invalid duration "soon"' });
  assert.deepEqual(parseGoDuration(''), { error: 'time: invalid duration ""' });
  assert.deepEqual(parseGoDuration('5'), { error: 'time: missing unit in duration "5"' });
  assert.deepEqual(parseGoDuration('5d'), { error: 'time: unknown unit "d" in duration "5d"' });
});

test('formatGoDuration prints what Duration.String() prints', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [10e9, '10s'],
    [86400e9, '24h0m0s'],
    [90e9, '1m30s'],
    [3723.5e9, '1h2m3.5s'],
    [15e6, '15ms'],
    [1500, '1.5µs'],
    [42, '42ns'],
    [-2e9, '-2s'],
  ];
  for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text, String(ns));
});

test('LockDelay: text is a Go duration; numbers below 1000 are seconds, others nanoseconds; default 15s', () => {
  assert.equal(parseLockDelayNs(undefined), 15e9);
  assert.equal(parseLockDelayNs('10ms'), 10e6);
  assert.equal(parseLockDelayNs(3), 3e9);
  assert.equal(parseLockDelayNs(999), 999e9);
  assert.equal(parseLockDelayNs(1000), 1000);
  assert.throws(() => parseLockDelayNs('-1s'), /LockDelay/);
});
