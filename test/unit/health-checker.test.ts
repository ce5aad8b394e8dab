// Unit: the health checker runs real probes on an interval and writes thresholded statuses to a real bus store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBusStore } from '../../src/bus/index.js';
import type { BusStore, CheckStatus } from '../../src/bus/index.js';
import { createHealthChecker } from '../../src/health/index.js';
import type { CheckSpec, HealthChecker } from '../../src/health/index.js';
import type { ResolvedHealth } from '../../src/config/index.js';
import { waitFor } from './wait-for.js';

/** A real HTTP server whose /health answer the test decides per request; counts what it served. */
async function healthServer(decide: (n: number) => number) {
  const served = { total: 0, ok: 0, failed: 0 };
  const server = createServer((req, res) => {
    const status = req.url === '/health' ? decide(served.total) : 404;
    served.total += 1;
    if (status < 300) served.ok += 1;
    else served.failed += 1;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status < 300 ? 'ok' : 'not ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    served,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function health(over: Partial<ResolvedHealth> = {}): ResolvedHealth {
  return { kind: 'http', path: '/health', interval: 50, timeout: 2000, startPeriod: 0, successThreshold: 2, failureThreshold: 3, restart: false, ...over };
}

function spec(port: number, h: ResolvedHealth): CheckSpec {
  return { checkId: 'service:web-1', serviceId: 'web-1', serviceName: 'web', node: 'm1', health: h, address: '127.0.0.1', port, env: process.env, cwd: process.cwd() };
}

function freshStore(): BusStore {
  const store = createBusStore({ nodeName: 'agent' });
  store.registerNode({ Node: 'm1', Address: '127.0.0.1' });
  store.registerService({ ID: 'web-1', Service: 'web', Tags: [], Address: '127.0.0.1', Port: 0, Meta: {}, Node: 'm1' });
  return store;
}

/** Records each status flip of a check with the server's counters at that moment. */
function recordFlips(store: BusStore, checkId: string, served: { ok: number; failed: number }) {
  const flips: { to: CheckStatus; ok: number; failed: number }[] = [];
  store.subscribe((c) => {
    if (c.kind === 'check' && c.op === 'set' && c.check.CheckID === checkId && c.previous !== undefined && c.previous !== c.check.Status) {
      flips.push({ to: c.check.Status, ok: served.ok, failed: served.failed });
    }
  });
  return flips;
}

test('critical → passing after success_threshold passes, then passing → critical only after failure_threshold consecutive failures', async () => {
  let healthy = true;
  const srv = await healthServer(() => (healthy ? 200 : 500));
  const store = freshStore();
  let checker: HealthChecker | undefined;
  try {
    const flips = recordFlips(store, 'service:web-1', srv.served);
    checker = createHealthChecker(store);
    checker.add(spec(srv.port, health({ successThreshold: 2, failureThreshold: 3 })));

    const first = store.check('service:web-1')!;
    assert.equal(first.Status, 'critical');
    assert.equal(first.ServiceID, 'web-1');
    assert.equal(first.Type, 'http');
    assert.match(first.Output, /waiting for the first HTTP GET/);
    assert.equal(checker.isStarting('service:web-1'), true);

    await waitFor('passing', () => store.check('service:web-1')?.Status === 'passing');
    assert.equal(flips.length, 1);
    assert.equal(flips[0]!.to, 'passing');
    assert.ok(flips[0]!.ok >= 2, `passing after ${flips[0]!.ok} successful probe(s); success_threshold is 2`);
    assert.equal(store.statusOf('web-1'), 'passing');
    assert.equal(checker.isStarting('service:web-1'), false);
    assert.match(store.check('service:web-1')!.Output, /200/);

    const okBefore = srv.served.ok;
    healthy = false;
    await waitFor('critical', () => store.check('service:web-1')?.Status === 'critical');
    assert.equal(flips.length, 2);
    assert.equal(flips[1]!.to, 'critical');
    assert.ok(flips[1]!.failed >= 3, `critical after ${flips[1]!.failed} failed probe(s); failure_threshold is 3`);
    assert.ok(srv.served.ok >= okBefore);
    assert.match(store.check('service:web-1')!.Output, /500/);
    // Having passed once, it is no longer starting even while critical.
    assert.equal(checker.isStarting('service:web-1'), false);

    healthy = true;
    await waitFor('passing again', () => store.check('service:web-1')?.Status === 'passing');
    assert.equal(flips.at(-1)!.to, 'passing');
  } finally {
    checker?.close();
    await srv.close();
  }
});

test('failures that are not consecutive never turn a passing check critical', async () => {
  // Pass twice, then forever: fail, fail, pass, fail, fail, pass ... (never failure_threshold = 3 in a row).
  const srv = await healthServer((n) => (n < 2 ? 200 : (n - 2) % 3 === 2 ? 200 : 500));
  const store = freshStore();
  let checker: HealthChecker | undefined;
  try {
    const flips = recordFlips(store, 'service:web-1', srv.served);
    checker = createHealthChecker(store);
    checker.add(spec(srv.port, health({ successThreshold: 1, failureThreshold: 3 })));
    await waitFor('passing', () => store.check('service:web-1')?.Status === 'passing');
    await waitFor('a dozen probes after passing', () => srv.served.failed >= 12);
    assert.deepEqual(
      flips.map((f) => f.to),
      ['passing'],
    );
    assert.equal(store.check('service:web-1')!.Status, 'passing');
  } finally {
    checker?.close();
    await srv.close();
  }
});

test('a 429 turns a passing check warning after failure_threshold answers', async () => {
  let code = 200;
  const srv = await healthServer(() => code);
  const store = freshStore();
  let checker: HealthChecker | undefined;
  try {
    checker = createHealthChecker(store);
    checker.add(spec(srv.port, health({ successThreshold: 1, failureThreshold: 2 })));
    await waitFor('passing', () => store.check('service:web-1')?.Status === 'passing');
    code = 429;
    await waitFor('warning', () => store.check('service:web-1')?.Status === 'warning');
    assert.equal(store.statusOf('web-1'), 'warning');
  } finally {
    checker?.close();
    await srv.close();
  }
});

test('isStarting: true before the first pass, false once failure_threshold probes have failed without a pass', async () => {
  const srv = await healthServer(() => 503);
  const store = freshStore();
  let checker: HealthChecker | undefined;
  try {
    checker = createHealthChecker(store);
    checker.add(spec(srv.port, health({ failureThreshold: 3 })));
    assert.equal(checker.isStarting('service:web-1'), true);
    await waitFor('no longer starting', () => !checker!.isStarting('service:web-1'));
    assert.ok(srv.served.failed >= 3, `${srv.served.failed} failed probes`);
    assert.equal(store.check('service:web-1')!.Status, 'critical');
    assert.equal(checker.isStarting('unknown-check'), false);
  } finally {
    checker?.close();
    await srv.close();
  }
});

test('a tcp check passes against a listening port', async () => {
  const srv = await healthServer(() => 200);
  const store = freshStore();
  let checker: HealthChecker | undefined;
  try {
    checker = createHealthChecker(store);
    checker.add(spec(srv.port, health({ kind: 'tcp', successThreshold: 1 })));
    await waitFor('passing', () => store.check('service:web-1')?.Status === 'passing');
    assert.equal(store.check('service:web-1')!.Type, 'tcp');
  } finally {
    checker?.close();
    await srv.close();
  }
});

test('remove() deregisters the check and stops probing; close() is safe twice', async () => {
  const srv = await healthServer(() => 200);
  const store = freshStore();
  let checker: HealthChecker | undefined;
  try {
    checker = createHealthChecker(store);
    checker.add(spec(srv.port, health({ successThreshold: 1 })));
    await waitFor('passing', () => store.check('service:web-1')?.Status === 'passing');
    checker.remove('service:web-1');
    assert.equal(store.check('service:web-1'), undefined);
    assert.deepEqual(store.checksOfService('web-1'), []);
    assert.equal(checker.isStarting('service:web-1'), false);
    checker.remove('service:web-1');
    checker.close();
    checker.close();
  } finally {
    checker?.close();
    await srv.close();
  }
});
