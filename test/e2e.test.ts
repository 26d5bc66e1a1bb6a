import assert from 'node:assert/strict';
import http from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ENGINE, newUser, startApp, type TestApp } from './helpers.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** An answer as a master server reads it off the socket. */
interface Answer {
  status: number;
  contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  json: any;
}

let t: TestApp;
let baseUrl: string;
before(async () => {
  t = await startApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
});
after(() => t.close());

/** Sends a request with global fetch, a JSON body when one is given. */
async function send(method: Method, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    json: text === '' ? undefined : JSON.parse(text),
  };
}

/** A GET with a JSON body, as the 2019 master servers send it; fetch refuses to. */
function getWithBody(path: string, body: unknown): Promise<Answer> {
  const payload = JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
  };
  return new Promise((resolve, reject) => {
    const request = http.request(`${baseUrl}${path}`, { method: 'GET', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'] ?? '',
          json: JSON.parse(text),
        }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(payload);
  });
}

describe(`a player's day over a real socket (${ENGINE})`, () => {
  it('should carry a player from sign-up through a match to logout', async () => {
    const player = newUser({ playername: 'Ｄａｙ Игрок' });

    const signUp = await send('POST', '/users', player);
    assert.equal(signUp.status, 201);
    assert.match(signUp.contentType, /^application\/json/);
    const { userId } = signUp.json;

    const login = await send('POST', '/sessions', {
      username: player.username.toUpperCase(),
      password: player.password,
    });
    assert.equal(login.status, 201);
    const { sessionId } = login.json;
    assert.equal(login.json.userId, userId);
    assert.equal((await send('GET', '/ping')).json.sessions, 1);

    const sockets = [
      { portId: 0, localPort: 27005, externalPort: 61001 },
      { portId: 256, localPort: 27015, externalPort: 61002 },
      { portId: 512, localPort: 27020, externalPort: 61003 },
    ];
    for (const [portIndex, socket] of sockets.entries()) {
      const punch = await send('POST', `/sessions/${userId}/holepunch`, socket);
      assert.equal(punch.status, 200);
      assert.deepEqual(punch.json, { portIndex });
    }
    const seen = await send('PUT', `/sessions/${userId}`, {
      externalNet: { ipAddress: '203.0.113.50' },
      internalNet: { ipAddress: '10.0.0.8' },
    });
    assert.equal(seen.status, 200);

    const channel = await send('PUT', `/sessions/${userId}/channel`, {
      channelServerIndex: 1,
      channelIndex: 3,
    });
    assert.equal(channel.status, 200);
    assert.equal((await send('PUT', `/sessions/${userId}`, { currentRoomId: 17 })).status, 200);
    const room = await send('GET', '/sessions?channelServerIndex=1&channelIndex=3&roomId=17');
    assert.deepEqual(
      room.json.map((session: { userId: number }) => session.userId),
      [userId],
    );

    const profile = (await send('GET', `/users/${userId}`)).json;
    const stats = { ...profile, wins: 1, kills: 21, deaths: 9, assists: 4, curExp: 340 };
    const saved = await send('PUT', `/users/${userId}`, stats);
    assert.equal(saved.status, 200);
    assert.deepEqual((await send('GET', `/users/${userId}`)).json, stats);
    assert.equal((await send('PUT', `/sessions/${userId}`, { currentRoomId: 0 })).status, 200);

    const olderServer = await getWithBody('/users/session', { userId });
    assert.equal(olderServer.status, 200);
    assert.deepEqual(olderServer.json, {
      sessionId,
      userId,
      externalNet: {
        ipAddress: '203.0.113.50',
        clientPort: 61001,
        serverPort: 61002,
        tvPort: 61003,
      },
      internalNet: { ipAddress: '10.0.0.8', clientPort: 27005, serverPort: 27015, tvPort: 27020 },
      currentChannelServerIndex: 1,
      currentChannelIndex: 3,
      currentRoomId: 0,
    });

    const logout = await send('DELETE', `/sessions/${userId}`);
    assert.equal(logout.status, 200);
    assert.equal((await send('GET', '/ping')).json.sessions, 0);
    const gone = await getWithBody('/users/session', { userId });
    assert.equal(gone.status, 404);
    assert.match(gone.contentType, /^application\/problem\+json/);
    assert.equal(gone.json.status, 404);

    const nextDay = await send('POST', '/sessions', {
      username: player.username,
      password: player.password,
    });
    assert.equal(nextDay.status, 201);
    assert.notEqual(nextDay.json.sessionId, sessionId);
  });

  it('should serve /users/session when a 2019 master server sends GET/DELETE bodies', async () => {
    const player = newUser();
    const { userId } = (await send('POST', '/users', player)).json;

    const login = await send('POST', '/users/session', {
      username: player.username,
      password: player.password,
    });
    assert.equal(login.status, 201);

    const update = await send('PUT', '/users/session', {
      userId,
      externalNet: { ipAddress: '198.51.100.9', clientPort: 27005 },
      currentChannelServerIndex: 2,
    });
    assert.equal(update.status, 200);

    const read = await getWithBody('/users/session', { userId });
    assert.equal(read.status, 200);
    assert.deepEqual(read.json, update.json);
    assert.equal(read.json.externalNet.ipAddress, '198.51.100.9');
    assert.equal(read.json.currentChannelServerIndex, 2);

    const noBody = await send('GET', '/users/session');
    assert.equal(noBody.status, 400);
    assert.match(noBody.contentType, /^application\/problem\+json/);

    const logout = await send('DELETE', '/users/session', { userId });
    assert.equal(logout.status, 200);
    assert.equal((await getWithBody('/users/session', { userId })).status, 404);
  });
});

/** Writes raw bytes to the service and reads everything it answers until it closes. */
function sendRaw(bytes: string): Promise<string> {
  const { port } = t.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

describe(`requests that are not valid HTTP, over a real socket (${ENGINE})`, () => {
  const cases = [
    ['a header name with a space', 'GET /ping HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', 400],
    ['an invalid method', 'G@T /ping HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    [
      'headers over the size limit',
      `GET /ping HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
  ] as const;
  for (const [why, bytes, status] of cases) {
    it(`should answer ${status} problem+json and close when the request has ${why}`, async () => {
      const answer = await sendRaw(bytes);

      const [head = '', body = ''] = answer.split('\r\n\r\n');
      assert.match(head, new RegExp(`^HTTP/1.1 ${status} `));
      assert.match(head, /content-type: application\/problem\+json/i);
      assert.equal(JSON.parse(body).status, status);
      assert.equal((await send('GET', '/ping')).status, 200, 'the service still answers');
    });
  }
});
