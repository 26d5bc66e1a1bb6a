import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import postgres from 'postgres';
import { buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';
import { openStorage, type Storage } from '../src/db/dialect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { playerNameKey, userNameKey } from '../src/users/names.js';

/** The PostgreSQL server the suite runs against, or undefined for the embedded database. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

/** Which engine this run of the suite tests, for test names. */
export const ENGINE = TEST_DATABASE_URL ? 'postgres' : 'sqlite';

/** A configuration as the defaults give it, with the fields a test changes. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ DATA_DIR: ':memory:' }), ...overrides };
}

/** A database of its own for one test: a fresh PostgreSQL database, or SQLite in memory. */
export interface TestDatabase {
  storage: Storage;
  /** The URL of the fresh PostgreSQL database, for tests that start processes. */
  url?: string;
  /** Closes the storage and drops the database. */
  drop(): Promise<void>;
}

/** Creates and migrates an empty database on the engine under test. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) {
    const storage = openStorage({ kind: 'sqlite', file: ':memory:' });
    await migrateToLatest(storage.db);
    return { storage, drop: () => storage.close() };
  }
  const name = `cso2_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const storage = openStorage({ kind: 'postgres', url: url.toString() });
  await migrateToLatest(storage.db);
  return {
    storage,
    url: url.toString(),
    drop: async () => {
      await storage.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** A built app on a fresh database. */
export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  /** Closes the app and drops its database. */
  close(): Promise<void>;
}

/** Builds the app on a fresh database; close it in `after` or `afterEach`. */
export async function startApp(
  overrides: Partial<Config> = {},
  options: { now?: () => number } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const app = await buildApp({
    config: testConfig(overrides),
    storage: database.storage,
    logger: false,
    ...options,
  });
  await app.ready();
  return {
    app,
    database,
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

/** Sends a JSON request in process; `body` is sent as JSON when given. */
export function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  if (body === undefined) return app.inject({ method, url, headers });
  return app.inject({
    method,
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });
}

let userCounter = 0;

/** Sign-up fields for a new, unique user; pass fields to override. */
export function newUser(
  overrides: Partial<{ username: string; playername: string; password: string }> = {},
) {
  userCounter += 1;
  return {
    username: `user${userCounter}`,
    playername: `Player ${userCounter}`,
    password: `secret-${userCounter}`,
    ...overrides,
  };
}

/** Signs a new user up and returns their fields with the new id. */
export async function signUp(app: FastifyInstance, overrides: Parameters<typeof newUser>[0] = {}) {
  const user = newUser(overrides);
  const response = await call(app, 'POST', '/users', user);
  if (response.statusCode !== 201) throw new Error(`sign-up failed: ${response.body}`);
  return { ...user, userId: response.json().userId as number };
}

/** Signs a user up and logs them in; returns the user and the new session. */
export async function signUpAndLogIn(app: FastifyInstance) {
  const user = await signUp(app);
  const response = await call(app, 'POST', '/sessions', {
    username: user.username,
    password: user.password,
  });
  if (response.statusCode !== 201) throw new Error(`login failed: ${response.body}`);
  return { user, session: response.json() };
}

/** Where a new session says its client is: nowhere yet. */
export const DEFAULT_NET = { ipAddress: '0.0.0.0', clientPort: 0, serverPort: 0, tvPort: 0 };

/** The session a login opens for `userId`, with every other field at its default. */
export function defaultSession(fields: { sessionId: string; userId: number }) {
  return {
    ...fields,
    externalNet: DEFAULT_NET,
    internalNet: DEFAULT_NET,
    currentChannelServerIndex: 0,
    currentChannelIndex: 0,
    currentRoomId: 0,
  };
}

/** Every row of every table, to show that a refused request changed nothing. */
export async function snapshot(storage: Storage): Promise<string> {
  const users = await storage.db.selectFrom('users').selectAll().orderBy('id').execute();
  const sessions = await storage.db.selectFrom('sessions').selectAll().orderBy('userId').execute();
  return JSON.stringify({ users, sessions });
}

/** Milliseconds a spawned service may take to start answering `/health/live`. */
const SERVICE_START_TIMEOUT_MS = 20_000;

/** Milliseconds a test waits for one HTTP answer before counting it as hung. */
export const HTTP_TIMEOUT_MS = 10_000;

/** One JSON log line a spawned service wrote. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Empty storage for spawned services on the engine under test. */
export interface ServiceData {
  /** The variables that point a service at it: DATABASE_URL or DATA_DIR. */
  env: Record<string, string>;
  /** The embedded database's folder, when the engine is SQLite. */
  dataDir?: string;
  /** Drops the database or deletes the folder. */
  remove(): Promise<void>;
}

/** Creates a fresh PostgreSQL database, or a temporary data folder named after `prefix`. */
export async function createServiceData(prefix: string): Promise<ServiceData> {
  if (TEST_DATABASE_URL) {
    const database = await createTestDatabase();
    return { env: { DATABASE_URL: database.url as string }, remove: () => database.drop() };
  }
  const dataDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return {
    env: { DATA_DIR: dataDir },
    dataDir,
    remove: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** A real `src/main.ts` process started by a test. */
export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Every JSON log line written to stdout so far. */
  logs: LogLine[];
  /** What the process wrote to stderr, for failure messages. */
  stderr(): string;
  /** Settles once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line whose message is `msg`, waiting up to `timeoutMs`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
  /** Sends SIGKILL unless the process has ended, and waits for the end. */
  kill(): Promise<void>;
}

/** A TCP port nobody listens on right now, as the system hands out for port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node --import tsx src/main.ts` on a free port with the given
 * environment (plus PORT, HOST and LOG_LEVEL) and collects its log lines.
 * Unless `waitForLive` is false, resolves once `/health/live` answers.
 */
export async function spawnService(
  env: Record<string, string>,
  options: { waitForLive?: boolean } = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('..', import.meta.url),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout as Readable }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ level: 0, msg: line });
    }
    for (const wake of waiters) wake();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const wake of waiters) wake();
  });

  const service: ServiceProcess = {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog: (msg, timeoutMs = SERVICE_START_TIMEOUT_MS) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const line = logs.find((entry) => entry.msg === msg);
          if (!line && !ended) return;
          clearTimeout(timer);
          waiters.delete(check);
          if (line) resolve(line);
          else reject(new Error(`process ended before logging "${msg}": ${stderr}`));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no "${msg}" log line within ${timeoutMs} ms: ${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    kill: async () => {
      if (!ended) child.kill('SIGKILL');
      await exited;
    },
  };
  if (options.waitForLive === false) return service;
  try {
    await waitUntilLive(service);
  } catch (error) {
    await service.kill();
    throw error;
  }
  return service;
}

async function waitUntilLive(service: ServiceProcess): Promise<void> {
  const deadline = Date.now() + SERVICE_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) break;
    const answer = await request(service.baseUrl, 'GET', '/health/live').catch(() => undefined);
    if (answer?.status === 200) return;
    await sleep(50);
  }
  throw new Error(`service did not come up on port ${service.port}: ${service.stderr()}`);
}

/** An HTTP answer as a test reads it. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field in tests
  json: any;
}

/** Sends a JSON request over the network; rejects after HTTP_TIMEOUT_MS without an answer. */
export async function request(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  timeoutMs = HTTP_TIMEOUT_MS,
): Promise<HttpAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((error: Error) => {
    throw new Error(`${method} ${path}: ${error.message} (${String(error.cause ?? '')})`);
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = text;
  }
  const contentType = response.headers.get('content-type') ?? '';
  return { status: response.status, contentType, headers: response.headers, json };
}

/**
 * Checks that an answer is an RFC 9457 problem of the given status, and that
 * its detail names the field at fault when one is given. Returns the body.
 */
export function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  field?: string,
): { status: number; title: string; detail: string; field?: string } {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const problem = response.json();
  assert.equal(problem.status, status);
  assert.equal(typeof problem.title, 'string');
  assert.notEqual(problem.title, '');
  assert.equal(typeof problem.detail, 'string');
  if (field !== undefined) {
    assert.ok(problem.detail.includes(field), `detail "${problem.detail}" should name ${field}`);
  }
  return problem;
}

/** Writes a user row straight to the database, as an import of old accounts would. */
export async function insertUserRow(
  storage: Storage,
  fields: { userName: string; playerName: string; passwordHash: string },
): Promise<number> {
  const row = await storage.db
    .insertInto('users')
    .values({
      ...fields,
      userNameKey: userNameKey(fields.userName),
      playerNameKey: playerNameKey(fields.playerName),
      createdAt: new Date().toISOString(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Writes `count` users named `<prefix><n>` straight to the database; returns
 * their ids in order.
 */
export async function insertUserRows(
  storage: Storage,
  prefix: string,
  count: number,
): Promise<number[]> {
  const ids: number[] = [];
  for (let n = 1; n <= count; n += 1) {
    const name = `${prefix}${n}`;
    ids.push(
      await insertUserRow(storage, { userName: name, playerName: name, passwordHash: 'imported' }),
    );
  }
  return ids;
}

/** The password hash stored for a user, read straight from the database. */
export async function storedPasswordHash(storage: Storage, userId: number): Promise<string> {
  const row = await storage.db
    .selectFrom('users')
    .select('passwordHash')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  return row.passwordHash;
}
