import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';
// The schema module itself (the domain's index loads it lazily).
import { ConfigSchema, configJsonSchema } from '../../src/config/schema.js';

const root = new URL('../../../', import.meta.url);

test('schema/machineroom.schema.json is configJsonSchema() (regenerate it when the schema changes)', async () => {
  const published = JSON.parse(await readFile(new URL('schema/machineroom.schema.json', root), 'utf8')) as unknown;
  assert.deepEqual(published, configJsonSchema());
});

test('every property in the published schema has a title and a description', () => {
  const missing: string[] = [];
  visitProperties(configJsonSchema(), '', (path, schema) => {
    if (typeof schema.title !== 'string' || typeof schema.description !== 'string') missing.push(path);
  });
  assert.deepEqual(missing, []);
});

test('the schema is draft-07 JSON with no TypeBox symbols left', () => {
  const schema = configJsonSchema();
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
});

test('the full example fixture passes TypeBox validation against the same schema', async () => {
  const text = await readFile(new URL('test/fixtures/config/full/machineroom.yml', root), 'utf8');
  const options = parse(text.replace('${API_REPLICAS}', '3'), { merge: true }) as Record<string, unknown>;
  for (const key of Object.keys(options)) if (key.startsWith('x-')) delete options[key];
  assert.deepEqual([...Value.Errors(ConfigSchema, options)].map((error) => `${error.path}: ${error.message}`), []);
});

type JsonSchema = Record<string, unknown>;

function visitProperties(schema: JsonSchema, path: string, visit: (path: string, schema: JsonSchema) => void): void {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, child] of Object.entries(properties)) {
    visit(`${path}.${key}`, child);
    visitProperties(child, `${path}.${key}`, visit);
  }
  for (const [key, child] of Object.entries((schema.patternProperties ?? {}) as Record<string, JsonSchema>)) visitProperties(child, `${path}[${key}]`, visit);
  for (const child of (schema.anyOf ?? []) as JsonSchema[]) visitProperties(child, path, visit);
  if (schema.items) visitProperties(schema.items as JsonSchema, `${path}[]`, visit);
}
