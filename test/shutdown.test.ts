import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createServiceData,
  ENGINE,
  newUser,
  request,
  type ServiceData,
  type ServiceProcess,
  spawnService,
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
  let data: ServiceData | undefined;

  afterEach(async () => {
    await service?.kill();
    await data?.remove();
    service = data = undefined;
  });

  async function start(): Promise<ServiceProcess> {
    data = await createServiceData('cso2-shutdown');
    service = await spawnService(data.env);
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
