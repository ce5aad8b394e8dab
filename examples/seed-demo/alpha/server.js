// alpha: the app under test. It counts requests per host (the prototype kept them in a Postgres table
// host_count(hostname, count); until the database issue lands, the count lives in memory).
import { createServer } from 'node:http';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);
const me = process.env.MR_MACHINE ?? 'alpha';
const counts = new Map();

const server = createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  counts.set(me, (counts.get(me) ?? 0) + 1);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ host: me, address: `${host}:${port}`, count: counts.get(me), version: process.env.npm_package_version ?? null }) + '\n');
});

server.listen(port, host, () => console.log(`alpha listening on http://${host}:${port} as ${me}`));
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`alpha ${me} got ${sig}, closing`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
