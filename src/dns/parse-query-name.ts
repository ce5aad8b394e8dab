// Reads what a name inside the served domain asks for, following Consul's label grammar (agent/dns.go doDispatch).
import { TYPE } from './dns-constants.js';
import { ipOfHex } from './ip-bytes.js';

/** What a name inside the domain asks for. */
export type NameLookup =
  | { kind: 'service'; service: string; tag: string | undefined }
  | { kind: 'node'; node: string }
  | { kind: 'addr'; ip: Uint8Array }
  | { kind: 'apex' }
  /** A name that cannot exist here (unknown form, or another datacenter): NXDOMAIN. */
  | { kind: 'invalid' };

const INVALID: NameLookup = { kind: 'invalid' };
const APEX: NameLookup = { kind: 'apex' };

/**
 * The datacenter labels after the query kind: none, `<dc>`, or the newer `<dc>.dc`.
 * Only this store's datacenter exists (machineroom runs one), so any other is invalid.
 */
function datacenterMatches(suffix: readonly string[], from: number, datacenter: string): boolean {
  const n = suffix.length - from;
  if (n === 0) return true;
  if (n === 1) return suffix[from] === datacenter;
  if (n === 2) return suffix[from + 1] === 'dc' && suffix[from] === datacenter;
  return false;
}

/**
 * Parses the labels before the domain (lower case, left to right) of a question of type `qtype`:
 * `[tag.]<service>.service[.<dc>]`, `_<service>._<tag|tcp>[.service][.<dc>]`, `<node>.node[.<dc>]`,
 * `<hex>.addr[.<dc>]`. The rightmost kind label wins, as in Consul; `datacenter` is lower case.
 */
export function parseQueryName(labels: readonly string[], qtype: number, datacenter: string): NameLookup {
  if (labels.length === 0) return APEX;
  let kindAt = -1;
  let kind = '';
  for (let i = labels.length - 1; i >= 0; i--) {
    const label = labels[i]!;
    if (label === 'service' || label === 'node' || label === 'addr') {
      kindAt = i;
      kind = label;
      break;
    }
    // For SRV questions the "service" label is optional in the RFC 2782 form.
    if (qtype === TYPE.SRV && label.charCodeAt(0) === 95 /* _ */) {
      if (!datacenterMatches(labels, i + 1, datacenter)) return INVALID;
      return parseService(labels, i + 1);
    }
  }
  if (kindAt < 0) return INVALID;
  if (!datacenterMatches(labels, kindAt + 1, datacenter)) return INVALID;
  if (kind === 'service') return parseService(labels, kindAt);
  if (kind === 'node') {
    if (kindAt === 0) return INVALID;
    // Node names may hold dots: join every label before "node".
    return { kind: 'node', node: kindAt === 1 ? labels[0]! : labels.slice(0, kindAt).join('.') };
  }
  if (kindAt !== 1) return INVALID;
  const ip = ipOfHex(labels[0]!);
  return ip ? { kind: 'addr', ip } : INVALID;
}

/** `labels[0..end)` are the parts before "service" (or before the datacenter in the bare RFC 2782 form). */
function parseService(labels: readonly string[], end: number): NameLookup {
  if (end === 0) return INVALID;
  if (end === 1) return { kind: 'service', service: labels[0]!, tag: undefined };
  const first = labels[0]!;
  const second = labels[1]!;
  if (end === 2 && first.charCodeAt(0) === 95 && second.charCodeAt(0) === 95) {
    // RFC 2782: _<service>._<protocol or tag>; "tcp" means no tag filter.
    const tag = second.slice(1);
    return { kind: 'service', service: first.slice(1), tag: tag === 'tcp' ? undefined : tag };
  }
  // tag[.tag].<service>: a tag may hold dots, so every label but the last is the tag.
  return { kind: 'service', service: labels[end - 1]!, tag: labels.slice(0, end - 1).join('.') };
}
