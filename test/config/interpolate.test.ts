import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolateText } from '../../src/config/index.js';

const vars: Record<string, string> = { NAME: 'web', EMPTY: '' };
const lookup = (name: string) => vars[name];

function expand(text: string): string {
  const result = interpolateText(text, lookup);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.value;
}

test('interpolateText expands every Compose form', () => {
  assert.equal(expand('$NAME-${NAME}'), 'web-web');
  assert.equal(expand('[${UNSET}][$UNSET]'), '[][]');
  assert.equal(expand('${UNSET:-d} ${EMPTY:-d} ${NAME:-d}'), 'd d web');
  assert.equal(expand('${UNSET-d} ${EMPTY-d} ${NAME-d}'), 'd  web');
  assert.equal(expand('${UNSET:+alt} ${EMPTY:+alt} ${NAME:+alt}'), '  alt');
  assert.equal(expand('${UNSET+alt} ${EMPTY+alt}'), ' alt');
  assert.equal(expand('${EMPTY?x}${NAME:?x}'), 'web');
  assert.equal(expand('$$ $${NAME} $$NAME'), '$ ${NAME} $NAME');
  assert.equal(expand('${UNSET:-${NAME}-x}'), 'web-x');
  assert.equal(expand('no variables'), 'no variables');
});

test('interpolateText tells substituted values from literal ones', () => {
  assert.deepEqual(interpolateText('$$5', lookup), { ok: true, value: '$5', substituted: false });
  assert.deepEqual(interpolateText('${NAME}', lookup), { ok: true, value: 'web', substituted: true });
});

test('interpolateText explains what is wrong', () => {
  assert.deepEqual(interpolateText('${UNSET:?set it}', lookup), { ok: false, message: 'required variable UNSET is unset or empty (set it); set it in the environment or in .env' });
  assert.deepEqual(interpolateText('${EMPTY:?}', lookup), { ok: false, message: 'required variable EMPTY is unset or empty; set it in the environment or in .env' });
  assert.deepEqual(interpolateText('${UNSET?}', lookup), { ok: false, message: 'required variable UNSET is unset; set it in the environment or in .env' });
  assert.deepEqual(interpolateText('a ${NAME', lookup), { ok: false, message: 'unterminated "${" in "a ${NAME"; close it with "}" or write "$$" for a literal "$"' });
  assert.deepEqual(interpolateText('${1X}', lookup), { ok: false, message: 'invalid interpolation "${1X}"; use ${NAME}, ${NAME:-default} or ${NAME:?message}' });
  assert.deepEqual(interpolateText('cost: 5$', lookup), { ok: false, message: 'invalid "$" in "cost: 5$"; write "$$" for a literal "$"' });
});
