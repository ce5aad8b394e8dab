import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/config/index.js';

test('parseDuration reads Go-style durations to milliseconds', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1h2m3s4ms'), 3_723_004);
  assert.equal(parseDuration('0s'), 0);
});

test('parseDuration rejects bare numbers and garbage', () => {
  for (const text of ['5', '', 'abc', '5 s', '-1s', '1d', 's', '1.s']) assert.equal(parseDuration(text), undefined, text);
});

test('formatDuration writes what a user would', () => {
  assert.equal(formatDuration(1500), '1.5s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(7_200_000), '2h');
  assert.equal(formatDuration(3_723_004), '1h2m3.004s');
});

test('formatDuration and parseDuration round-trip', () => {
  for (const ms of [1, 999, 1000, 1001, 59_999, 60_000, 61_500, 3_600_000, 5_400_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
});
