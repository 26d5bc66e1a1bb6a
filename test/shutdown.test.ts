import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createServiceData,
  ENGINE,
  freePort,
  newUser,
  request,
  type ServiceData,
  type ServiceProcess,
  spawnService,
  TEST_DATABASE_URL,
} from './helpers.js';

/** Sign-ups in flight at the signal; each hashes a password, so they take a while. */
const IN_FLIGHT = 30;

/** The process's own grace period (10 s) plus a margin. */
const EXIT_BOUND_MS = 12_000;

/** The lifecycle lines of a shutdown, in order. */
const SHUTDOWN_STEPS = ['shutdown started', 'http server closed', 'database closed'];

/** A sign-up the service has begun to handle, and its answer to come. */
interface SignUp {
  /** Settles once the service has read the headers and taken the request on. */
  started: Promise<void>;
  /** The status it answers. */
  answered: Promise<number>;
}

/**
 * Signs a user up on a connection of its own, asking `Expect: 100-continue`:
 * the service sends "100 Continue" when it takes the request on, so the test
 * knows the request is in flight there, not still in a socket queue, when it
 * sends the signal. The body follows the "100 Continue".
 */
function signUpOnNewConnection(service: ServiceProcess): SignUp {
  const body = JSON.stringify(newUser());
  let started = () => {};
  const startedPromise = new Promise<void>((resolve) => {
    started = resolve;
  });
  const answered = new Promise<number>((resolve, reject) => {
    const outgoing = httpRequest(
      `${service.baseUrl}/users`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', expect: '100-continue' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('continue', () => {
      outgoing.end(body);
      started();
    });
    outgoing.setTimeout(EXIT_BOUND_MS, () => outgoing.destroy(new Error('no answer')));
    outgoing.on('error', reject);
    outgoing.flushHeaders();
  });
  return { started: startedPromise, answered };
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
      await Promise.all(inFlight.map((signUp) => signUp.started));

      const signalledAt = Date.now();
      running.child.kill(signal);
      const answers = await Promise.all(inFlight.map((signUp) => signUp.answered));
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

describe(`start-up and shutdown edges (${ENGINE})`, () => {
  let service: ServiceProcess | undefined;
  afterEach(async () => {
    await service?.kill();
    service = undefined;
  });

  /** Waits for the process to end, or gives up after the exit bound. */
  function exitOf(running: ServiceProcess) {
    return Promise.race([running.exited, sleep(EXIT_BOUND_MS, 'timeout' as const)]);
  }

  it('should exit 0 and log the shutdown when a signal comes during start-up retries', async () => {
    const nobody = `postgres://postgres@127.0.0.1:${await freePort()}/none`;
    service = await spawnService({ DATABASE_URL: nobody }, { waitForLive: false });
    await service.waitForLog('database unreachable, retrying');

    service.child.kill('SIGTERM');

    assert.deepEqual(await exitOf(service), { code: 0, signal: null });
    const started = service.logs.filter((line) => line.msg === 'shutdown started');
    assert.equal(started.length, 1);
  });

  it('should exit 1 with the reason and no retry when the data folder is a file', async () => {
    service = await spawnService({ DATA_DIR: '/etc/hostname' }, { waitForLive: false });

    assert.deepEqual(await exitOf(service), { code: 1, signal: null });
    const fatal = service.logs.find((line) => line.msg === 'database cannot be used');
    assert.match(String(fatal?.reason), /EEXIST|ENOTDIR/);
  });

  it('should exit 1 with the reason and no retry when PostgreSQL refuses the role', async (t) => {
    if (!TEST_DATABASE_URL) return t.skip('needs TEST_DATABASE_URL');
    const url = new URL(TEST_DATABASE_URL);
    url.username = 'no_such_role';
    service = await spawnService({ DATABASE_URL: url.href }, { waitForLive: false });

    assert.deepEqual(await exitOf(service), { code: 1, signal: null });
    const fatal = service.logs.find((line) => line.msg === 'database cannot be used');
    assert.match(String(fatal?.reason), /no_such_role/);
    assert.equal(service.logs.filter((line) => line.msg.includes('retrying')).length, 0);
  });

  it('should still exit 0 on SIGTERM when its log reader has gone away', async () => {
    const data = await createServiceData('cso2-epipe');
    try {
      service = await spawnService(data.env);
      // Like `npm start | head -1`: the reading end of stdout closes.
      service.child.stdout?.destroy();

      service.child.kill('SIGTERM');

      assert.deepEqual(await exitOf(service), { code: 0, signal: null });
    } finally {
      await data.remove();
    }
  });
});
