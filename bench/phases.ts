import type { Context, RawRequest, RequestStep } from 'autocannon';
import { BENCH_PASSWORD, CHANNEL_SERVERS, CHANNELS, legacyUserName, userName } from './seeding.js';

/** The ids a load phase spreads its requests over, as seeded. */
export interface Workload {
  /** Users with an argon2 hash: ids 1..users. */
  users: number;
  /** Users 1..sessions have a live session; the rest are free to log in. */
  sessions: number;
  /** Legacy users: ids users+1..users+legacyUsers, each logged in once (the login upgrades it). */
  legacyUsers: number;
}

/** One row of the table: a name and the request list each connection loops over. */
export interface Phase {
  name: string;
  /** What bounds the figure, for the table. */
  bound: string;
  steps(workload: Workload): RequestStep[];
  /** HTTP requests per operation (a login cycle is a login and a logout). */
  requestsPerOperation: number;
  /** The least fraction of the ceiling's requests/s this phase must reach, by engine. */
  ceilingTarget?: { sqlite: number; postgres: number };
  /** Whether this is a login cycle, compared with the bare hash rate instead. */
  login?: 'argon2' | 'legacy';
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Hole-punch port ids of the client, game server and SourceTV sockets. */
const PORT_IDS = [0, 256, 512];

/** An integer from 1 to max, uniformly. */
export function pick(max: number): number {
  return 1 + Math.floor(Math.random() * max);
}

function port(): number {
  return 1_024 + Math.floor(Math.random() * 60_000);
}

/** A one-step list whose request is rebuilt before every send. */
function each(method: string, build: (request: RawRequest) => RawRequest): RequestStep[] {
  const headers = method === 'GET' ? {} : JSON_HEADERS;
  return [{ method, headers, setupRequest: (request) => build(request) }];
}

/** The ceiling's request: the same shape as the session read. */
export const CEILING: Phase = {
  name: 'bare node:http (ceiling)',
  bound: 'event loop (HTTP parsing and JSON only)',
  requestsPerOperation: 1,
  steps: (w) => each('GET', (request) => ({ ...request, path: `/sessions/${pick(w.sessions)}` })),
};

/**
 * The service's own floor: a route that touches no database, so the gap
 * between it and the ceiling is what fastify, the schemas, the metrics and
 * the logger cost, and the gap below it is what the database path costs.
 */
const appFloor: Phase = {
  name: 'GET /health/live (no database)',
  bound: 'event loop (framework, hooks, metrics)',
  requestsPerOperation: 1,
  steps: () => each('GET', (request) => ({ ...request, path: '/health/live' })),
};

const sessionRead: Phase = {
  ceilingTarget: { sqlite: 0.6, postgres: 0.35 },
  name: 'GET /sessions/:ownerId',
  bound: 'event loop',
  requestsPerOperation: 1,
  steps: (w) => each('GET', (request) => ({ ...request, path: `/sessions/${pick(w.sessions)}` })),
};

const sessionUpdate: Phase = {
  ceilingTarget: { sqlite: 0.4, postgres: 0.25 },
  name: 'PUT /sessions/:ownerId (network)',
  bound: 'event loop; commit on SQLite',
  requestsPerOperation: 1,
  steps: (w) =>
    each('PUT', (request) => ({
      ...request,
      path: `/sessions/${pick(w.sessions)}`,
      body: JSON.stringify({
        externalNet: { ipAddress: `203.0.113.${pick(254)}`, clientPort: port() },
        internalNet: { ipAddress: `192.168.1.${pick(254)}`, clientPort: port() },
      }),
    })),
};

const holePunch: Phase = {
  ceilingTarget: { sqlite: 0.4, postgres: 0.25 },
  name: 'POST /sessions/:ownerId/holepunch',
  bound: 'event loop; commit on SQLite',
  requestsPerOperation: 1,
  steps: (w) =>
    each('POST', (request) => ({
      ...request,
      path: `/sessions/${pick(w.sessions)}/holepunch`,
      body: JSON.stringify({
        portId: PORT_IDS[pick(PORT_IDS.length) - 1],
        localPort: port(),
        externalPort: port(),
      }),
    })),
};

const userRead: Phase = {
  name: 'GET /users/:userId',
  bound: 'event loop',
  requestsPerOperation: 1,
  steps: (w) => each('GET', (request) => ({ ...request, path: `/users/${pick(w.users)}` })),
};

const channelList: Phase = {
  name: 'GET /sessions?channel (25 a page)',
  bound: 'event loop (25 rows to serialize)',
  requestsPerOperation: 1,
  steps: () =>
    each('GET', (request) => ({
      ...request,
      path: `/sessions?channelServerIndex=${pick(CHANNEL_SERVERS)}&channelIndex=${pick(CHANNELS)}`,
    })),
};

const login: Phase = {
  name: 'login + logout (argon2id)',
  bound: 'hash (thread pool)',
  login: 'argon2',
  requestsPerOperation: 2,
  steps: (w) => loginCycle(rotation(w.sessions + 1, w.users - w.sessions), userName),
};

const legacyLogin: Phase = {
  name: 'login + logout (legacy PBKDF2)',
  bound: 'hash: PBKDF2 check plus the argon2id upgrade',
  requestsPerOperation: 2,
  login: 'legacy',
  steps: (w) =>
    loginCycle(rotation(w.users + 1, w.legacyUsers), (id) => legacyUserName(id - w.users)),
};

/** Every phase of the main table, in the order they run. */
export const PHASES: Phase[] = [
  appFloor,
  sessionRead,
  sessionUpdate,
  holePunch,
  userRead,
  channelList,
  login,
  legacyLogin,
];

/**
 * Hands out ids first..first+count-1 in turn. With far more ids than
 * connections, no id is handed out again while its last cycle still runs.
 */
function rotation(first: number, count: number): () => number {
  let next = 0;
  return () => first + (next++ % count);
}

/** Logs a fresh user in, then logs the same user out through their owner id. */
function loginCycle(nextUser: () => number, nameOf: (id: number) => string): RequestStep[] {
  return [
    {
      method: 'POST',
      path: '/sessions',
      headers: JSON_HEADERS,
      setupRequest: (request: RawRequest, context: Context) => {
        const id = nextUser();
        context.ownerId = id;
        const body = JSON.stringify({ username: nameOf(id), password: BENCH_PASSWORD });
        return { ...request, body };
      },
      onResponse: (status: number, _body: string, context: Context) => {
        if (status !== 201) context.ownerId = undefined;
      },
    },
    {
      method: 'DELETE',
      setupRequest: (request: RawRequest, context: Context) => {
        if (context.ownerId === undefined) return undefined;
        return { ...request, path: `/sessions/${context.ownerId}` };
      },
    },
  ];
}
