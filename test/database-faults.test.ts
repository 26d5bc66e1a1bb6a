import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DATABASE_TIMEOUT_MS } from '../src/limits.js';
import { type HttpAnswer, newUser, request, type ServiceProcess, spawnService } from './helpers.js';

/**
 * The longest a request may take while PostgreSQL is down: the deadline every
 * statement has, plus a margin for a loaded machine.
 */
const OUTAGE_ANSWER_BOUND_MS = DATABASE_TIMEOUT_MS + 2_000;

/** How long traffic runs before and after the database is stopped. */
const TRAFFIC_BEFORE_STOP_MS = 600;
const TRAFFIC_AFTER_STOP_MS = 2_500;

/** Concurrent clients in the traffic. */
const TRAFFIC_CLIENTS = 6;

/** Milliseconds the service may take to serve again once PostgreSQL is back. */
const RECOVERY_BOUND_MS = 15_000;

const POSTGRES_LIB = '/usr/lib/postgresql';

/** The newest installed PostgreSQL's bin folder, if `initdb` and `pg_ctl` are there. */
function findPostgresBin(): string | undefined {
  if (!existsSync(POSTGRES_LIB)) return undefined;
  const versions = readdirSync(POSTGRES_LIB)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(POSTGRES_LIB, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/**
 * A PostgreSQL cluster of the test's own in a temporary folder, so that it can
 * be stopped without touching the server other tests share. initdb refuses to
 * run as root, so as root every command runs as the `postgres` user.
 */
class ThrowawayCluster {
  readonly port = 55_432 + Math.floor(Math.random() * 68);
  readonly url = `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'cso2-pg-'));
  private readonly data = join(this.dir, 'data');

  constructor(private readonly bin: string) {
    if (process.getuid?.() === 0) chownSync(this.dir, uid('postgres'), gid('postgres'));
    this.run('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  }

  start(): void {
    const options = `-k ${this.dir} -c listen_addresses=127.0.0.1 -p ${this.port} -c fsync=off`;
    const log = join(this.dir, 'log');
    this.run('pg_ctl', ['-D', this.data, '-l', log, '-w', '-t', '20', '-o', options, 'start']);
  }

  /** Stops the server at once, as a crash or an operator's kill would. */
  stop(): void {
    this.run('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', '-t', '20', 'stop']);
  }

  /** Stops the server if it runs and deletes its folder. */
  remove(): void {
    try {
      this.stop();
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): void {
    const command = join(this.bin, tool);
    const asPostgres = process.getuid?.() === 0;
    execFileSync(
      asPostgres ? 'runuser' : command,
      asPostgres ? ['-u', 'postgres', '--', command, ...args] : args,
      { stdio: 'ignore', timeout: 30_000 },
    );
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}

/** One answer of the traffic, or the error that stood in for it. */
interface Exchange {
  call: number;
  sentAt: number;
  ms: number;
  answer?: HttpAnswer;
  error?: string;
}

/**
 * Runs the calls a master server makes, from several clients at once, until
 * `stop` resolves. Each client waits for an answer before its next call.
 */
async function traffic(baseUrl: string, userId: number, stop: Promise<void>) {
  const exchanges: Exchange[] = [];
  let running = true;
  void stop.then(() => {
    running = false;
  });
  const calls: Array<() => Promise<HttpAnswer>> = [
    () => request(baseUrl, 'GET', `/users/${userId}`, undefined, OUTAGE_ANSWER_BOUND_MS + 3_000),
    () =>
      request(
        baseUrl,
        'PUT',
        `/sessions/${userId}`,
        { currentRoomId: 7 },
        OUTAGE_ANSWER_BOUND_MS + 3_000,
      ),
    () => request(baseUrl, 'GET', '/sessions?length=5', undefined, OUTAGE_ANSWER_BOUND_MS + 3_000),
    () => request(baseUrl, 'GET', '/ping', undefined, OUTAGE_ANSWER_BOUND_MS + 3_000),
  ];
  const client = async (offset: number) => {
    for (let n = offset; running && n < 10_000; n++) {
      const sentAt = Date.now();
      const call = calls[n % calls.length] as () => Promise<HttpAnswer>;
      try {
        exchanges.push({
          call: n % calls.length,
          sentAt,
          answer: await call(),
          ms: Date.now() - sentAt,
        });
      } catch (error) {
        exchanges.push({
          call: n % calls.length,
          sentAt,
          error: (error as Error).message,
          ms: Date.now() - sentAt,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: TRAFFIC_CLIENTS }, (_, n) => client(n)));
  return exchanges;
}

function assertUnavailableProblem(answer: HttpAnswer | undefined, what: string): void {
  assert.ok(answer, `${what}: no answer`);
  assert.equal(answer.status, 503, `${what}: ${JSON.stringify(answer.json)}`);
  assert.match(answer.contentType, /^application\/problem\+json/, what);
  assert.equal(answer.json.status, 503, what);
  assert.equal(answer.json.code, 'database_unavailable', what);
  assert.match(answer.json.detail, /database/, what);
}

/** Polls a route until it answers `status`, for at most `boundMs`. */
async function waitForStatus(baseUrl: string, path: string, status: number, boundMs: number) {
  const deadline = Date.now() + boundMs;
  let last: HttpAnswer | undefined;
  while (Date.now() < deadline) {
    last = await request(baseUrl, 'GET', path).catch(() => undefined);
    if (last?.status === status) return;
    await sleep(200);
  }
  assert.fail(`${path} did not answer ${status} within ${boundMs} ms: ${JSON.stringify(last)}`);
}

const postgresBin = findPostgresBin();

describe('database faults (postgres, a throwaway cluster)', {
  skip: postgresBin ? false : `no PostgreSQL binaries under ${POSTGRES_LIB}`,
}, () => {
  let cluster: ThrowawayCluster;
  let service: ServiceProcess;
  let userId: number;
  const spawned: ServiceProcess[] = [];

  before(async () => {
    cluster = new ThrowawayCluster(postgresBin as string);
    cluster.start();
    service = await spawnService({ DATABASE_URL: cluster.url });
    spawned.push(service);

    const user = newUser();
    const signUp = await request(service.baseUrl, 'POST', '/users', user);
    assert.equal(signUp.status, 201);
    userId = signUp.json.userId;
    const login = await request(service.baseUrl, 'POST', '/sessions', {
      username: user.username,
      password: user.password,
    });
    assert.equal(login.status, 201);
  });

  after(async () => {
    await Promise.all(spawned.map((child) => child.kill()));
    cluster?.remove();
  });

  it('should answer 503 problem+json in bounded time when Postgres stops mid-traffic', async () => {
    let stopTraffic = () => {};
    const stop = new Promise<void>((resolve) => {
      stopTraffic = resolve;
    });
    const running = traffic(service.baseUrl, userId, stop);

    await sleep(TRAFFIC_BEFORE_STOP_MS);
    const stoppedAt = Date.now();
    cluster.stop();
    await sleep(TRAFFIC_AFTER_STOP_MS);
    stopTraffic();
    const exchanges = await running;

    const failed = exchanges.filter((exchange) => exchange.error !== undefined);
    assert.deepEqual(failed, [], 'every request got an answer');
    const statuses = new Set(exchanges.map((exchange) => exchange.answer?.status));
    assert.deepEqual(
      [...statuses].filter((status) => status !== 200 && status !== 503),
      [],
    );
    assert.ok(exchanges.some((e) => e.sentAt < stoppedAt && e.answer?.status === 200));

    const during = exchanges.filter((exchange) => exchange.sentAt > stoppedAt + 100);
    assert.ok(during.length > 0, 'requests were sent while the database was down');
    for (const exchange of during) assertUnavailableProblem(exchange.answer, 'during outage');
    const slowest = Math.max(...during.map((exchange) => exchange.ms));
    assert.ok(slowest < OUTAGE_ANSWER_BOUND_MS, `slowest answer took ${slowest} ms`);
    assert.equal(service.child.exitCode, null, 'the service still runs');
  });

  it('should say not ready, stay live, and answer /ping 503 while PostgreSQL is down', async () => {
    assertUnavailableProblem(await request(service.baseUrl, 'GET', '/health/ready'), 'ready');
    const live = await request(service.baseUrl, 'GET', '/health/live');
    assert.equal(live.status, 200);
    assert.deepEqual(live.json, { status: 'ok' });
    assertUnavailableProblem(await request(service.baseUrl, 'GET', '/ping'), 'ping');
    const signUp = await request(service.baseUrl, 'POST', '/users', newUser());
    assertUnavailableProblem(signUp, 'sign-up');
  });

  it('should serve again without a restart when PostgreSQL returns', async () => {
    cluster.start();
    await waitForStatus(service.baseUrl, '/health/ready', 200, RECOVERY_BOUND_MS);

    const user = await request(service.baseUrl, 'GET', `/users/${userId}`);
    assert.equal(user.status, 200);
    assert.equal(user.json.userId, userId);
    const session = await request(service.baseUrl, 'GET', `/sessions/${userId}`);
    assert.equal(session.status, 200);
    assert.equal(session.json.currentRoomId, 7);
    assert.equal((await request(service.baseUrl, 'POST', '/users', newUser())).status, 201);
    const ping = await request(service.baseUrl, 'GET', '/ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.json.sessions, 1);
    assert.equal(service.child.exitCode, null, 'the service was not restarted');
  });

  it('should log one line per backoff retry when PostgreSQL is down at start', async () => {
    cluster.stop();
    const late = await spawnService({ DATABASE_URL: cluster.url }, { waitForLive: false });
    spawned.push(late);

    const attempts = async (count: number) => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const lines = late.logs.filter((line) => line.msg === 'database unreachable, retrying');
        if (lines.length >= count) return lines;
        await sleep(100);
      }
      assert.fail(`fewer than ${count} retry lines: ${JSON.stringify(late.logs)}`);
    };
    const retries = await attempts(2);
    assert.deepEqual(
      retries.map((line) => [line.attempt, line.retryInMs]),
      [
        [1, 1_000],
        [2, 2_000],
      ],
    );
    for (const line of retries) {
      assert.equal(line.level, 40, 'a retry is a warning');
      assert.match(String(line.reason), /ECONNREFUSED|connect/i);
    }
    assert.equal(
      late.logs.filter((line) => line.msg !== 'database unreachable, retrying').length,
      0,
      'nothing but one line per attempt is logged while waiting',
    );
    assert.equal(late.child.exitCode, null, 'the service keeps waiting');

    cluster.start();
    const ready = await late.waitForLog('database ready', RECOVERY_BOUND_MS);
    assert.ok(Number(ready.attempt) >= 3);
    await waitForStatus(late.baseUrl, '/health/ready', 200, RECOVERY_BOUND_MS);
    assert.equal((await request(late.baseUrl, 'GET', `/users/${userId}`)).status, 200);
  });
});
