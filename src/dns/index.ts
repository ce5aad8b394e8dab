// DNS over the bus store: Consul-compatible names (service, tag, RFC 2782, node, addr, PTR) over UDP and TCP.
export type { DnsServer } from './create-dns-server.js';
export { createDnsServer } from './create-dns-server.js';
export type { DnsAnswer } from './answer-query.js';
export { answerQuery } from './answer-query.js';
export type { DnsAnswerOptions, DnsServerOptions } from './dns-options.js';
export type { RcodeName } from './dns-constants.js';
