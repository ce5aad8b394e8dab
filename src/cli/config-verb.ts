// `machineroom config`: the resolved config (defaults, interpolation, env files and overrides applied), or its JSON Schema.
import { EXIT_OK } from '../errors/index.js';
import type { Verb } from './args.js';
import { flag } from './args.js';
import { loadProjectConfig } from './project.js';

/** `config` */
export const configVerb: Verb = {
  name: 'config',
  summary: 'Validate the config and print it resolved (YAML, or --json), or print its JSON Schema (--schema).',
  usage: 'config [--json] [--schema]',
  description: 'Point editors at the schema with a first line `# yaml-language-server: $schema=<path>/schema/machineroom.schema.json`.',
  options: {
    json: { type: 'boolean', description: 'print JSON instead of YAML' },
    schema: { type: 'boolean', description: 'print the JSON Schema of machineroom.yml' },
  },
  async run(args) {
    if (flag(args, 'schema')) {
      const { loadConfigJsonSchema } = await import('../config/index.js');
      process.stdout.write(JSON.stringify(await loadConfigJsonSchema(), null, 2) + '\n');
      return EXIT_OK;
    }
    const config = await loadProjectConfig(args);
    const { stringify } = await import('yaml');
    process.stdout.write(flag(args, 'json') ? JSON.stringify(config, null, 2) + '\n' : stringify(config));
    return EXIT_OK;
  },
};
