import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, isLoopback, loadConfig, SERVICE_KEY_MIN_LENGTH } from '../src/config.js';

const KEY_A = 'a'.repeat(SERVICE_KEY_MIN_LENGTH);
const KEY_B = 'b'.repeat(SERVICE_KEY_MIN_LENGTH + 8);

/** The problems loadConfig reports for an environment; fails the test if it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** A file holding the given text, in a folder of its own. */
function tempFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cso2-config-')), 'keys');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('should use the documented defaults when the environment is empty', () => {
    const config = loadConfig({});
    assert.equal(config.port, 30_100);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.storage, { kind: 'sqlite', file: './data/users.sqlite' });
    assert.deepEqual(config.serviceKeys, []);
    assert.equal(config.allowOpenAccess, false);
    assert.equal(config.loginMaxFailures, 5);
    assert.equal(config.loginWindow, 900);
    assert.equal(config.loginMaxFailuresPerAddress, 1_000);
  });

  it('should accept USERS_PORT when PORT is unset', () => {
    assert.equal(loadConfig({ USERS_PORT: '30200' }).port, 30_200);
    assert.equal(loadConfig({ PORT: '30300', USERS_PORT: '30200' }).port, 30_300);
  });

  it('should name each bad variable when its value is out of range or not a number', () => {
    const cases: Record<string, string> = {
      PORT: '70000',
      USERS_PORT: 'http',
      LOG_LEVEL: 'loud',
      LOG_PRETTY: 'yes',
      ALLOW_OPEN_ACCESS: 'maybe',
      SESSION_IDLE_TIMEOUT: '-1',
      LOGIN_MAX_FAILURES: '0',
      LOGIN_WINDOW: '1.5',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '1e3',
      DATABASE_URL: 'mysql://root@db/cso2',
    };
    for (const [name, value] of Object.entries(cases)) {
      const problems = problemsOf({ [name]: value });
      assert.equal(problems.length, 1, `${name}: ${problems.join('; ')}`);
      assert.ok(problems[0]?.startsWith(`${name}:`), problems[0]);
    }
  });

  it('should report every problem at once when several variables are bad', () => {
    const problems = problemsOf({
      PORT: '0',
      LOG_LEVEL: 'loud',
      LOGIN_WINDOW: 'soon',
      SERVICE_KEYS: 'short',
    });
    const names = problems.map((problem) => problem.split(':')[0]);
    assert.deepEqual(names.sort(), ['LOGIN_WINDOW', 'LOG_LEVEL', 'PORT', 'SERVICE_KEYS']);
  });

  it('should not show a DATABASE_URL when it is refused', () => {
    const [problem = ''] = problemsOf({ DATABASE_URL: 'mysql://root:hunter22@db/cso2' });
    assert.ok(problem.startsWith('DATABASE_URL:'), problem);
    assert.ok(!problem.includes('hunter22'), problem);
  });

  it('should read service keys from SERVICE_KEYS and SERVICE_KEYS_FILE together', () => {
    const file = tempFile(`${KEY_B}\r\n\n  ${KEY_A}  \n`);
    const config = loadConfig({ SERVICE_KEYS: ` ${KEY_A} ,`, SERVICE_KEYS_FILE: file });
    assert.deepEqual(config.serviceKeys, [KEY_A, KEY_B]);
  });

  it('should refuse a service key shorter than 32 characters without showing it', () => {
    const short = 'x'.repeat(SERVICE_KEY_MIN_LENGTH - 1);
    const problems = problemsOf({ SERVICE_KEYS: `${KEY_A},${short}` });
    assert.equal(problems.length, 1);
    const [problem = ''] = problems;
    assert.ok(problem.startsWith('SERVICE_KEYS:'), problem);
    assert.ok(!problem.includes(short), problem);

    const fromFile = problemsOf({ SERVICE_KEYS_FILE: tempFile(`${short}\n`) });
    assert.ok(fromFile.some((problem) => problem.startsWith('SERVICE_KEYS')));
    assert.ok(fromFile.every((problem) => !problem.includes(short)));
  });

  it('should refuse to start open when SERVICE_KEYS or its file holds no key', () => {
    assert.match(problemsOf({ SERVICE_KEYS: ' , ' })[0] ?? '', /^SERVICE_KEYS:/);
    assert.match(
      problemsOf({ SERVICE_KEYS_FILE: tempFile('\n\n') })[0] ?? '',
      /^SERVICE_KEYS_FILE:/,
    );
  });

  it('should name SERVICE_KEYS_FILE when the file cannot be read', () => {
    const [problem] = problemsOf({ SERVICE_KEYS_FILE: '/nonexistent/cso2-keys' });
    assert.match(problem ?? '', /^SERVICE_KEYS_FILE:/);
  });

  it('should refuse a non-loopback HOST without keys and say why in one line', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      const problems = problemsOf({ HOST: host });
      assert.equal(problems.length, 1);
      const [problem = ''] = problems;
      assert.ok(problem.startsWith('HOST:'), problem);
      assert.ok(!problem.includes('\n'), problem);
      assert.match(problem, /SERVICE_KEYS/);
      assert.match(problem, /ALLOW_OPEN_ACCESS=true/);
    }
  });

  it('should start on a non-loopback HOST when keys are set or ALLOW_OPEN_ACCESS=true', () => {
    assert.deepEqual(loadConfig({ HOST: '0.0.0.0', SERVICE_KEYS: KEY_A }).serviceKeys, [KEY_A]);
    const open = loadConfig({ HOST: '0.0.0.0', ALLOW_OPEN_ACCESS: 'true' });
    assert.equal(open.allowOpenAccess, true);
    assert.deepEqual(open.serviceKeys, []);
  });

  it('should start without keys when HOST is a loopback address', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) {
      assert.equal(loadConfig({ HOST: host }).host, host);
    }
  });
});

describe('isLoopback', () => {
  it('should tell loopback addresses from the others', () => {
    assert.equal(isLoopback('127.0.0.1'), true);
    assert.equal(isLoopback('::1'), true);
    assert.equal(isLoopback('0.0.0.0'), false);
    assert.equal(isLoopback('127.example.com'), false);
    assert.equal(isLoopback('::ffff:10.0.0.1'), false);
  });
});
