// Unit: the line splitter turns a byte stream into whole lines, whatever the chunk boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLineSplitter } from '../../src/supervisor/line-splitter.js';

function split(chunks: (string | Buffer)[], maxLine?: number): string[] {
  const lines: string[] = [];
  const s = createLineSplitter((l) => lines.push(l), maxLine);
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c);
  s.end();
  return lines;
}

test('a line split across chunks comes out whole', () => {
  assert.deepEqual(split(['hel', 'lo wo', 'rld\nsec', 'ond\n']), ['hello world', 'second']);
});

test('several lines in one chunk come out one by one', () => {
  assert.deepEqual(split(['a\nb\nc\n']), ['a', 'b', 'c']);
});

test('nothing is emitted before the newline arrives', () => {
  const lines: string[] = [];
  const s = createLineSplitter((l) => lines.push(l));
  s.push(Buffer.from('partial'));
  assert.deepEqual(lines, []);
  s.push(Buffer.from(' line\n'));
  assert.deepEqual(lines, ['partial line']);
});

test('CRLF line endings lose the CR, also when CR and LF are in different chunks', () => {
  assert.deepEqual(split(['one\r\ntwo\r', '\nthree\r\n']), ['one', 'two', 'three']);
});

test('a lone CR inside a line is kept', () => {
  assert.deepEqual(split(['progress 10%\rprogress 20%\n']), ['progress 10%\rprogress 20%']);
});

test('multi-byte UTF-8 characters split across chunk boundaries decode intact', () => {
  const text = 'héllo €uro 𝄞 clef ✓\n';
  const bytes = Buffer.from(text);
  // Every possible single cut, and a byte-at-a-time feed.
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual(split([bytes.subarray(0, cut), bytes.subarray(cut)]), ['héllo €uro 𝄞 clef ✓'], `cut at byte ${cut}`);
  }
  const oneByOne = [...bytes].map((b) => Buffer.from([b]));
  assert.deepEqual(split(oneByOne), ['héllo €uro 𝄞 clef ✓']);
  assert.ok(!split(oneByOne).join('').includes('\uFFFD'));
});

test(
  'an over-long line is cut into pieces marked " [line continues]", also when its newline is in the same chunk',
  () => {
    // Whole in one chunk.
    assert.deepEqual(split(['x'.repeat(25) + '\n'], 10), ['x'.repeat(10) + ' [line continues]', 'x'.repeat(10) + ' [line continues]', 'xxxxx']);
    // 8 pending characters, then 8 more with the newline: 16 > 10 comes out in one piece.
    assert.deepEqual(split(['x'.repeat(8), 'x'.repeat(8) + '\n'], 10), ['x'.repeat(10) + ' [line continues]', 'xxxxxx']);
  },
);

test('an over-long line arriving in small chunks is cut the same way', () => {
  const chunks = Array.from({ length: 25 }, () => 'y');
  const lines = split([...chunks, '\nshort\n'], 10);
  assert.deepEqual(lines, ['y'.repeat(10) + ' [line continues]', 'y'.repeat(10) + ' [line continues]', 'yyyyy', 'short']);
});

test('a line of exactly maxLine characters is not cut', () => {
  assert.deepEqual(split(['z'.repeat(10) + '\n'], 10), ['z'.repeat(10)]);
});

test('end() flushes the final partial line', () => {
  assert.deepEqual(split(['first\nno newline at the end']), ['first', 'no newline at the end']);
});

test('end() flushes an incomplete multi-byte sequence rather than losing it', () => {
  const euro = Buffer.from('€'); // 3 bytes
  const lines = split([Buffer.from('price 5'), euro.subarray(0, 2)]);
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.startsWith('price 5'));
});

test('end() with nothing pending emits nothing', () => {
  assert.deepEqual(split(['done\n']), ['done']);
  assert.deepEqual(split([]), []);
});

test('empty lines are kept', () => {
  assert.deepEqual(split(['a\n\n\nb\n', '\n']), ['a', '', '', 'b', '']);
  assert.deepEqual(split(['\r\n\r\n']), ['', '']);
});
