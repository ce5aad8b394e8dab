// Unit: the ?filter parser and evaluator (go-bexpr's grammar and semantics) against the shapes Consul filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter, compileFilter, FilterSyntaxError, ConsulHttpError } from '../../src/bus/index.js';
import type { FieldSchema } from '../../src/bus/index.js';

const SCHEMA: FieldSchema = {
  struct: {
    Node: { struct: { Node: 'string', Meta: { map: 'string' } } },
    Service: {
      struct: {
        ID: 'string',
        Service: 'string',
        Tags: { list: 'string' },
        Port: 'number',
        Meta: { map: 'string' },
        EnableTagOverride: 'bool',
        Weights: { struct: { Passing: 'number', Warning: 'number' } },
      },
    },
    Checks: { list: { struct: { CheckID: 'string', Status: 'string', ServiceTags: { list: 'string' } } } },
  },
};

const entry = (over: { tags?: string[]; meta?: Record<string, string>; port?: number; statuses?: string[]; name?: string; nodeMeta?: Record<string, string> } = {}) => ({
  Node: { Node: 'm1', Meta: over.nodeMeta ?? { rack: 'r1' } },
  Service: { ID: `${over.name ?? 'web'}-1`, Service: over.name ?? 'web', Tags: over.tags ?? ['primary', 'v2'], Port: over.port ?? 8080, Meta: over.meta ?? { env: 'prod' }, EnableTagOverride: false, Weights: { Passing: 1, Warning: 1 } },
  Checks: (over.statuses ?? ['passing', 'passing']).map((s, i) => ({ CheckID: `c${i}`, Status: s, ServiceTags: over.tags ?? ['primary'] })),
});

function matches(expr: string, item: unknown): boolean {
  return compileFilter(expr, SCHEMA)(item);
}

test('equality, inequality and bare or quoted values', () => {
  assert.equal(matches('Service.Service == "web"', entry()), true);
  assert.equal(matches('Service.Service == web', entry()), true);
  assert.equal(matches('Service.Service == `web`', entry()), true);
  assert.equal(matches('Service.Service != "web"', entry()), false);
  assert.equal(matches('Service.Port == 8080', entry()), true);
  assert.equal(matches('Service.Port == 8081', entry()), false);
  assert.equal(matches('Service.EnableTagOverride == false', entry()), true);
  assert.equal(matches('Service.Weights.Passing == 1', entry()), true);
});

test('in, not in, contains, not contains on lists, maps and strings', () => {
  assert.equal(matches('"primary" in Service.Tags', entry()), true);
  assert.equal(matches('primary in Service.Tags', entry()), true);
  assert.equal(matches('"replica" in Service.Tags', entry()), false);
  assert.equal(matches('"replica" not in Service.Tags', entry()), true);
  assert.equal(matches('Service.Tags contains "v2"', entry()), true);
  assert.equal(matches('Service.Tags not contains "v2"', entry()), false);
  assert.equal(matches('"env" in Service.Meta', entry()), true);
  assert.equal(matches('Service.Service contains "e"', entry()), true);
  assert.equal(matches('"eb" in Service.Service', entry()), true);
});

test('map selectors: dotted, indexed, and a missing key is "not present"', () => {
  assert.equal(matches('Service.Meta.env == "prod"', entry()), true);
  assert.equal(matches('Service.Meta["env"] == "prod"', entry()), true);
  assert.equal(matches('Node.Meta.rack == r1', entry()), true);
  assert.equal(matches('Service.Meta.team == "x"', entry()), false);
  assert.equal(matches('Service.Meta.team != "x"', entry()), true);
  assert.equal(matches('Service.Meta.team is empty', entry()), true);
  assert.equal(matches('Service.Meta.team is not empty', entry()), false);
});

test('emptiness, regular expressions, json-pointer selectors', () => {
  assert.equal(matches('Service.Tags is empty', entry({ tags: [] })), true);
  assert.equal(matches('Service.Tags is not empty', entry()), true);
  assert.equal(matches('Service.Meta is empty', entry({ meta: {} })), true);
  assert.equal(matches('Service.Service matches "^w.b$"', entry()), true);
  assert.equal(matches('Service.Service matches "(?i)^WEB$"', entry()), true);
  assert.equal(matches('Service.Service not matches "^db"', entry()), true);
  assert.equal(matches('"/Service/Service" == "web"', entry()), true);
});

test('selectors through lists hold when any element matches', () => {
  assert.equal(matches('Checks.Status == passing', entry()), true);
  assert.equal(matches('Checks.Status == critical', entry()), false);
  assert.equal(matches('Checks.Status == critical', entry({ statuses: ['passing', 'critical'] })), true);
  assert.equal(matches('Checks.Status != passing', entry()), false);
  assert.equal(matches('Checks.Status != passing', entry({ statuses: ['passing', 'warning'] })), true);
  assert.equal(matches('Checks.ServiceTags contains primary', entry()), true);
});

test('and, or, not and parentheses with the usual precedence', () => {
  const prodWeb = entry();
  const stagingDb = entry({ name: 'db', meta: { env: 'staging' }, tags: ['replica'] });
  const expr = 'Service.Service == web and Service.Meta.env == prod or "replica" in Service.Tags';
  assert.equal(matches(expr, prodWeb), true);
  assert.equal(matches(expr, stagingDb), true);
  assert.equal(matches('not Service.Service == web', prodWeb), false);
  assert.equal(matches('not not Service.Service == web', prodWeb), true);
  assert.equal(matches('Service.Service == db and (Service.Meta.env == prod or Service.Meta.env == staging)', stagingDb), true);
  assert.equal(matches('Service.Service == db and (Service.Meta.env == prod or Service.Meta.env == qa)', stagingDb), false);
  assert.equal(matches('(Service.Service == web)', prodWeb), true);
  assert.equal(matches('  not (Service.Service == db or Service.Port == 1)  ', prodWeb), true);
});

test('the parse tree of a compound expression', () => {
  assert.deepEqual(parseFilter('a == 1 and not "x" in b.c or d is empty'), {
    kind: 'or',
    left: {
      kind: 'and',
      left: { kind: 'match', operator: '==', selector: { path: ['a'], text: 'a' }, value: '1', position: 0 },
      right: { kind: 'not', operand: { kind: 'match', operator: 'in', selector: { path: ['b', 'c'], text: 'b.c' }, value: 'x', position: 15 } },
    },
    right: { kind: 'match', operator: 'is empty', selector: { path: ['d'], text: 'd' }, value: undefined, position: 29 },
  });
});

test('syntax errors carry the line, column and offset of the failure', () => {
  const cases: [string, RegExp][] = [
    ['Service.Service ==', /^1:19 \(18\): no match found, expected: /],
    ['Service.Service = "web"', /^1:17 \(16\): no match found, expected: "!=", "=="/],
    ['(Service.Service == web', /^1:24 \(23\): Unmatched parentheses/],
    ['Service.Service == "web', /^1:24 \(23\): Unterminated string literal/],
    ['Service.Port == 80x', /^1:19 \(18\): Invalid number literal/],
    ['Service.Meta[env] == x', /^1:14 \(13\): Invalid index/],
    ['Service.Service == web and', /^1:27 \(26\): no match found, expected: whitespace/],
    ['', /^1:1 \(0\): no match found/],
  ];
  for (const [expr, re] of cases) {
    assert.throws(() => parseFilter(expr), (err: unknown) => err instanceof FilterSyntaxError && re.test(err.message), expr);
  }
});

test('invalid selectors, operators and values are 400s naming the problem', () => {
  const bad = (expr: string, re: RegExp) =>
    assert.throws(() => compileFilter(expr, SCHEMA), (err: unknown) => err instanceof ConsulHttpError && err.status === 400 && re.test(err.message), expr);
  bad('Service.Nope == x', /^Failed to create result filter: Selector "Service.Nope" is not valid/);
  bad('Service.Port == abc', /cannot convert "abc" to a number/);
  bad('Service.Port is empty', /Invalid match operator "is empty"/);
  bad('Service.Service matches "("', /Failed to compile regular expression/);
  bad('Service == x', /Invalid match operator "=="/);
  bad('Service.Service ==', /^Failed to create result filter: 1:19 \(18\): no match found/);
});
