import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createTestDatabase,
  ENGINE,
  newUser,
  request,
  type ServiceProcess,
  spawnService,
  TEST_DATABASE_URL,
  type TestDatabase,
} from './helpers.js';

/** Sign-ups in flight at the signal; each hashes a password, so they take a while. */
const IN_FLIGHT = 30;

/** The process's own grace period (10 s) plus a margin. */
const EXIT_BOUND_MS = 12_000;

/** The lifecycle lines of a shutdown, in order. */
const SHUTDOWN_STEPS = ['shutdown started', 'http server closed', 'database closed'];

/**
 * Signs a user up on a connection of its own. A pooled keep-alive socket left
 * idle by an earlier request may be closed by the shutdown just as a request
 * is written to it, which is the client's race to retry, not a lost request.
 */
function signUpOnNewConnection(service: ServiceProcess): Promise<number> {
  const body = JSON.stringify(newUser());
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      `${service.baseUrl}/users`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.setTimeout(EXIT_BOUND_MS, () => outgoing.destroy(new Error('no answer')));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe(`shutdown on a signal (${ENGINE})`, () => {
  let service: ServiceProcess | undefined;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;

  afterEach(async () => {
    await service?.kill();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    service = database = dataDir = undefined;
  });

  async function start(): Promise<ServiceProcess> {
    if (TEST_DATABASE_URL) {
      database = await createTestDatabase();
      service = await spawnService({ DATABASE_URL: database.url as string });
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'cso2-shutdown-'));
      service = await spawnService({ DATA_DIR: dataDir });
    }
    return service;
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`should finish requests in flight, close the database and exit 0 on ${signal}`, async () => {
      const running = await start();
      const inFlight = Array.from({ length: IN_FLIGHT }, () => signUpOnNewConnection(running));
      // Once one is answered, the others have long been sent and wait for a hash.
      await Promise.race(inFlight);

      const signalledAt = Date.now();
      running.child.kill(signal);
      const answers = await Promise.all(inFlight);
      const late = await request(running.baseUrl, 'GET', '/ping').catch((error: Error) => error);
      const exit = await Promise.race([running.exited, sleep(EXIT_BOUND_MS, 'timeout' as const)]);

      assert.deepEqual(answers, Array(IN_FLIGHT).fill(201), 'every request in flight was finished');
      assert.ok(
        late instanceof Error || late.status === 503,
        'no new request is served after the signal',
      );
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - signalledAt < EXIT_BOUND_MS);

      const steps = running.logs.filter((line) => SHUTDOWN_STEPS.includes(line.msg));
      assert.deepEqual(
        steps.map((line) => line.msg),
        SHUTDOWN_STEPS,
        'each step is logged once, in order',
      );
      assert.equal(steps[0]?.signal, signal);
      assert.deepEqual(
        running.logs.filter((line) => line.level >= 50),
        [],
        'nothing is logged as an error',
      );
    });
  }
});
