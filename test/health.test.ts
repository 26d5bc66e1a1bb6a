import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, ENGINE, signUpAndLogIn, startApp, type TestApp } from './helpers.js';

describe(`health routes (${ENGINE})`, () => {
  let t: TestApp;
  before(async () => {
    t = await startApp();
  });
  after(() => t.close());

  it('should count live sessions and report uptime on GET /ping', async () => {
    const empty = await call(t.app, 'GET', '/ping');
    assert.equal(empty.statusCode, 200);
    assert.equal(empty.json().sessions, 0);
    assert.equal(typeof empty.json().uptime, 'number');

    await signUpAndLogIn(t.app);
    assert.equal((await call(t.app, 'GET', '/ping')).json().sessions, 1);
  });

  it('should say live and ready while the database answers', async () => {
    assert.equal((await call(t.app, 'GET', '/health/live')).statusCode, 200);
    const ready = await call(t.app, 'GET', '/health/ready');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ok' });
  });

  it('should expose request counters on GET /metrics', async () => {
    const metrics = await call(t.app, 'GET', '/metrics');
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.body, /http_requests_total\{[^}]*route="\/ping"/);
  });

  it('should answer an unknown route with a 404 problem', async () => {
    const response = await call(t.app, 'GET', '/nowhere');
    assert.equal(response.statusCode, 404);
    assert.match(String(response.headers['content-type']), /application\/problem\+json/);
    assert.equal(response.json().status, 404);
  });
});
