import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isErrorCode } from '../../src/errors/index.js';
import { parseDotenv, scanDotenv } from '../../src/config/index.js';

test('parseDotenv reads KEY=VALUE, export, quotes and comments', () => {
  const text = [
    '# a comment',
    '',
    'PLAIN=value',
    'export EXPORTED=yes',
    'SPACED = around  ',
    'INLINE=value # comment',
    'HASH=a#b',
    "SINGLE='no $expansion \\n # kept'",
    'DOUBLE="line\\nbreak \\"quoted\\""',
    'MULTI="first',
    'second"',
    'EMPTY=',
    'EMPTY_QUOTED=""',
    'CRLF=yes\r',
  ].join('\n');
  assert.deepEqual(parseDotenv(text), {
    PLAIN: 'value',
    EXPORTED: 'yes',
    SPACED: 'around',
    INLINE: 'value',
    HASH: 'a#b',
    SINGLE: 'no $expansion \\n # kept',
    DOUBLE: 'line\nbreak "quoted"',
    MULTI: 'first\nsecond',
    EMPTY: '',
    EMPTY_QUOTED: '',
    CRLF: 'yes',
  });
});

test('scanDotenv reports the first malformed line with its position', () => {
  assert.deepEqual(scanDotenv('A=1\n  oops\nB=2\n'), { values: { A: '1' }, problem: { line: 2, col: 3, message: 'expected KEY=VALUE, got "oops"' } });
  assert.deepEqual(scanDotenv('A="open\n').problem, { line: 1, col: 3, message: 'missing the closing " quote' });
  assert.deepEqual(scanDotenv("A='x' y\n").problem, { line: 1, col: 3, message: `unexpected "y" after the closing ' quote` });
});

test('parseDotenv throws ERR_CONFIG_INVALID for malformed text', () => {
  assert.throws(() => parseDotenv('1BAD=x'), (err: unknown) => isErrorCode(err, 'ERR_CONFIG_INVALID') && err.message === 'line 1:1: expected KEY=VALUE, got "1BAD=x"');
});

test('a variable named __proto__ is just a variable', () => {
  const values = parseDotenv('__proto__=x\n');
  assert.equal(Object.getPrototypeOf(values), Object.prototype);
  assert.deepEqual(Object.entries(values), [['__proto__', 'x']]);
});
