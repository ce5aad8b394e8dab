// beta: the prototype's small developer page. It serves static/ and reports who it is; the KV editor arrives with the bus.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);

const server = createServer(async (req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('ok');
  }
  if (req.url === '/api/whoami') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ service: process.env.MR_SERVICE, instance: process.env.MR_INSTANCE_ID, machine: process.env.MR_MACHINE, address: `${host}:${port}` }));
  }
  try {
    const page = await readFile(new URL('./static/index.html', import.meta.url));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  } catch {
    res.writeHead(404);
    res.end('not found');
  }
});

server.listen(port, host, () => console.log(`beta listening on http://${host}:${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`beta got ${sig}, closing`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
