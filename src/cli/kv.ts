// `machineroom kv get|put|delete|ls|watch`: the bus's key/value store from the terminal; secret values stay masked.
import { readFileSync } from 'node:fs';
import { MachineroomError, EXIT_FAILURE, EXIT_OK } from '../errors/index.js';
import { createBusHttpClient, isSecretKey } from '../client/index.js';
import type { KvWireEntry } from '../client/index.js';
import type { Verb, VerbArgs } from './args.js';
import { flag, intOption, str } from './args.js';
import { requireDaemon } from './project.js';
import { paint, useColor } from './output.js';

const say = (s: string) => process.stdout.write(s + '\n');

function decode(e: KvWireEntry): string {
  return e.Value === null ? '' : Buffer.from(e.Value, 'base64').toString('utf8');
}

function shown(e: KvWireEntry, secrets: string[], reveal: boolean): string {
  return !reveal && isSecretKey(e.Key, secrets) ? '********' : decode(e);
}

function valueArg(args: VerbArgs): Buffer {
  const v = args.positionals[2];
  if (v === undefined) throw new MachineroomError('ERR_USAGE', 'kv put needs KEY VALUE (VALUE "-" reads standard input, "@FILE" reads a file)');
  if (v === '-') return readFileSync(0);
  if (v.startsWith('@')) return readFileSync(v.slice(1));
  return Buffer.from(v);
}

/** `kv` */
export const kvVerb: Verb = {
  name: 'kv',
  summary: "Read and write the bus's key/value store: get, put, delete, ls, watch.",
  usage: 'kv get|put|delete|ls|watch KEY [VALUE] [options]',
  description: [
    '  kv get KEY [--recurse] [--json] [--reveal]   print a value (or every key under a prefix)',
    '  kv put KEY VALUE [--flags N] [--cas INDEX]   write (VALUE "-" reads stdin, "@FILE" a file)',
    '  kv delete KEY [--recurse]                    delete a key or a prefix',
    '  kv ls [PREFIX]                               list keys, folded at "/"',
    '  kv watch KEY [--recurse]                     print the value now and on every change (Ctrl-C stops)',
    'Values under the config\'s secrets: prefixes are masked unless --reveal.',
  ].join('\n'),
  options: {
    recurse: { type: 'boolean', short: 'r', description: 'every key under KEY as a prefix' },
    json: { type: 'boolean', description: 'print entries as JSON (Value decoded)' },
    reveal: { type: 'boolean', description: 'show values of secret keys' },
    flags: { type: 'string', value: 'N', description: 'kv put: the flags number stored with the key' },
    cas: { type: 'string', value: 'INDEX', description: 'kv put/delete: only if the key\'s ModifyIndex is INDEX (0: put only if absent)' },
    'any-version': { type: 'boolean', description: 'talk to a daemon of another version' },
  },
  async run(args) {
    const [sub, key] = args.positionals;
    if (!sub) throw new MachineroomError('ERR_USAGE', 'kv needs a subcommand: get, put, delete, ls or watch');
    const { record, room } = await requireDaemon(args);
    const bus = createBusHttpClient(`http://${record.apiHost}:${record.apiPort}`);
    const secrets = (await room.info()).secrets ?? [];
    const reveal = flag(args, 'reveal');
    const color = useColor();
    const needKey = () => {
      if (key === undefined || key === '') throw new MachineroomError('ERR_USAGE', `kv ${sub} needs a KEY`);
      return key;
    };
    switch (sub) {
      case 'get': {
        const k = needKey();
        const { value } = await bus.kvGet(k, { recurse: flag(args, 'recurse') });
        if (!value || value.length === 0) {
          process.stderr.write(`no key "${k}"${flag(args, 'recurse') ? ' or keys under it' : ''}\n`);
          return EXIT_FAILURE;
        }
        if (flag(args, 'json')) {
          say(JSON.stringify(value.map((e) => ({ ...e, Value: shown(e, secrets, reveal) })), null, 2));
        } else if (flag(args, 'recurse')) {
          for (const e of value) say(`${paint(e.Key, 'cyan', color)} = ${shown(e, secrets, reveal)}`);
        } else {
          say(shown(value[0]!, secrets, reveal));
        }
        return EXIT_OK;
      }
      case 'put': {
        const k = needKey();
        const flagsN = intOption(args, 'flags');
        const cas = intOption(args, 'cas');
        const ok = await bus.kvPut(k, valueArg(args), { ...(flagsN !== undefined ? { flags: flagsN } : {}), ...(cas !== undefined ? { cas } : {}) });
        if (!ok) {
          process.stderr.write(`not written: "${k}" changed since index ${str(args, 'cas')} (check-and-set failed)\n`);
          return EXIT_FAILURE;
        }
        say(`wrote ${k}`);
        return EXIT_OK;
      }
      case 'delete': {
        const k = needKey();
        const cas = intOption(args, 'cas');
        const ok = await bus.kvDelete(k, { recurse: flag(args, 'recurse'), ...(cas !== undefined ? { cas } : {}) });
        if (!ok) {
          process.stderr.write(`not deleted: "${k}" changed since index ${str(args, 'cas')}\n`);
          return EXIT_FAILURE;
        }
        say(`deleted ${k}${flag(args, 'recurse') ? ' and every key under it' : ''}`);
        return EXIT_OK;
      }
      case 'ls': {
        for (const k of await bus.kvKeys(key ?? '', '/')) say(k);
        return EXIT_OK;
      }
      case 'watch': {
        const k = needKey();
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        let index = 0;
        let last = '';
        while (!abort.signal.aborted) {
          let got;
          try {
            got = await bus.kvGet(k, { recurse: flag(args, 'recurse'), index, wait: '5m', signal: abort.signal });
          } catch (err) {
            if (abort.signal.aborted) break;
            throw err;
          }
          // Consul's client rule: an index that goes backwards resets to 0.
          index = got.index < index ? 0 : got.index;
          const text = got.value ? got.value.map((e) => `${e.Key} = ${shown(e, secrets, reveal)}`).join('\n') : `(no key "${k}")`;
          if (text !== last) say(`${paint(new Date().toISOString(), 'gray', color)} index ${got.index}\n${text}`);
          last = text;
        }
        return EXIT_OK;
      }
      default:
        throw new MachineroomError('ERR_USAGE', `unknown kv subcommand "${sub}"; use get, put, delete, ls or watch`);
    }
  },
};
