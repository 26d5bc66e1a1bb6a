import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  call,
  createServiceData,
  ENGINE,
  newUser,
  request,
  type ServiceData,
  type ServiceProcess,
  spawnService,
  startApp,
  TEST_DATABASE_URL,
  type TestApp,
} from './helpers.js';

/** Requests fired at once in every scenario. */
const BURST = 100;

/**
 * Failed-login limit high enough that the throttle, which has tests of its
 * own, cannot answer 429 to any of a burst of correct logins.
 */
const LOGIN_MAX_FAILURES = 1_000;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Sends one request and gives back its status and JSON body, in process or over HTTP. */
// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Send = (method: Method, url: string, body?: unknown) => Promise<{ status: number; json: any }>;

/** Fires `count` requests made by `make` without waiting for any of them first. */
function burst(send: Send, count: number, make: (n: number) => [Method, string, unknown?]) {
  return Promise.all(
    Array.from({ length: count }, (_, n) => {
      const [method, url, body] = make(n);
      return send(method, url, body);
    }),
  );
}

function countStatuses(answers: Array<{ status: number }>): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** The four races of the issue, against whatever `send` reaches. */
function raceScenarios(send: () => Send) {
  it('should accept exactly one of 100 sign-ups of one user name in mixed case', async () => {
    const base = newUser();
    const name = base.username.replace(/\d+$/, 'x');
    const spellings = (n: number) =>
      [...name].map((char, i) => ((n >> i) & 1 ? char.toUpperCase() : char)).join('');

    const answers = await burst(send(), BURST, (n) => [
      'POST',
      '/users',
      { username: spellings(n), playername: `${base.playername} ${n}`, password: base.password },
    ]);

    assert.deepEqual(countStatuses(answers), { 201: 1, 409: BURST - 1 });
    for (const answer of answers.filter((a) => a.status === 409)) {
      assert.equal(answer.json.code, 'user_name_taken');
    }
    const found = await send()('GET', `/users/byname/${name.toUpperCase()}`);
    assert.equal(found.status, 200);
    assert.equal(found.json.userId, answers.find((a) => a.status === 201)?.json.userId);
  });

  it('should open exactly one session when one user logs in 100 times at once', async () => {
    const user = newUser();
    const signUp = await send()('POST', '/users', user);
    assert.equal(signUp.status, 201);

    const credentials = { username: user.username.toUpperCase(), password: user.password };
    const answers = await burst(send(), BURST, (n) => [
      'POST',
      n % 2 === 0 ? '/sessions' : '/users/session',
      credentials,
    ]);

    assert.deepEqual(countStatuses(answers), { 201: 1, 409: BURST - 1 });
    const winner = answers.find((a) => a.status === 201)?.json;
    const session = await send()('GET', `/sessions/${signUp.json.userId}`);
    assert.equal(session.json.sessionId, winner.sessionId);
  });

  it('should give 100 distinct ids to 100 sign-ups of distinct names at once', async () => {
    const answers = await burst(send(), BURST, () => ['POST', '/users', newUser()]);

    assert.deepEqual(countStatuses(answers), { 201: BURST });
    const ids = new Set(answers.map((a) => a.json.userId));
    assert.equal(ids.size, BURST);
    for (const id of ids) assert.ok(Number.isInteger(id) && id > 0);
  });

  it('should end on one whole write when hole punches and updates race on a session', async () => {
    const user = newUser();
    const signUp = await send()('POST', '/users', user);
    const userId = signUp.json.userId as number;
    const credentials = { username: user.username, password: user.password };
    const login = await send()('POST', '/sessions', credentials);
    assert.equal(login.status, 201);
    const addresses = { ipAddress: '203.0.113.7' };
    const setUp = { externalNet: addresses, internalNet: { ipAddress: '192.168.1.7' } };
    assert.equal((await send()('PUT', `/sessions/${userId}`, setUp)).status, 200);

    // Each write sets a pair of fields to values that belong together, so a
    // final state mixing two writes, or missing a field, shows.
    const answers = await burst(send(), BURST, (n) => {
      const value = 1_000 + n;
      switch (n % 4) {
        case 0:
          return [
            'POST',
            `/sessions/${userId}/holepunch`,
            { portId: 0, localPort: value, externalPort: value + 20_000 },
          ];
        case 1:
          return [
            'PUT',
            `/sessions/${userId}`,
            { externalNet: { serverPort: value }, internalNet: { serverPort: value + 20_000 } },
          ];
        case 2:
          return [
            'PUT',
            `/sessions/${userId}/channel`,
            { channelServerIndex: value, channelIndex: value + 20_000 },
          ];
        default:
          return ['PUT', `/users/${userId}`, { kills: value, deaths: value + 20_000 }];
      }
    });

    assert.deepEqual(countStatuses(answers), { 200: BURST });
    const session = (await send()('GET', `/sessions/${userId}`)).json;
    const profile = (await send()('GET', `/users/${userId}`)).json;
    const pairs: Array<[number, number, number]> = [
      [session.internalNet.clientPort, session.externalNet.clientPort, 0],
      [session.externalNet.serverPort, session.internalNet.serverPort, 1],
      [session.currentChannelServerIndex, session.currentChannelIndex, 2],
      [profile.kills, profile.deaths, 3],
    ];
    for (const [first, second, kind] of pairs) {
      assert.equal(second, first + 20_000, `write kind ${kind} landed whole`);
      assert.equal((first - 1_000) % 4, kind, `write kind ${kind} holds one of its own values`);
    }
    assert.equal(session.externalNet.ipAddress, '203.0.113.7', 'no nested field was lost');
    assert.equal(session.internalNet.ipAddress, '192.168.1.7', 'no nested field was lost');
    assert.equal(session.externalNet.tvPort, 0);
  });
}

describe(`concurrent requests (${ENGINE}, one process)`, () => {
  let t: TestApp;
  before(async () => {
    t = await startApp({ loginMaxFailures: LOGIN_MAX_FAILURES });
  });
  after(() => t.close());

  raceScenarios(() => async (method, url, body) => {
    const answer = await call(t.app, method, url, body);
    return { status: answer.statusCode, json: answer.json() };
  });
});

describe('concurrent requests (postgres, two service processes on one database)', {
  skip: TEST_DATABASE_URL ? false : 'TEST_DATABASE_URL is not set',
}, () => {
  let data: ServiceData;
  let services: ServiceProcess[] = [];
  let turn = 0;

  before(async () => {
    data = await createServiceData('cso2-concurrency');
    const env = { ...data.env, LOGIN_MAX_FAILURES: String(LOGIN_MAX_FAILURES) };
    services = await Promise.all([spawnService(env), spawnService(env)]);
  });
  after(async () => {
    await Promise.all(services.map((service) => service.kill()));
    await data?.remove();
  });

  // Requests alternate between the two processes.
  raceScenarios(() => async (method, url, body) => {
    turn += 1;
    const service = services[turn % services.length] as ServiceProcess;
    return request(service.baseUrl, method, url, body);
  });
});
