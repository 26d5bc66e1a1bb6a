import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** Where the data lives: an embedded SQLite file, memory, or a PostgreSQL server. */
export type StorageConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/** The whole configuration of one process, read once at start. */
export interface Config {
  /** TCP port to listen on (`PORT`, or `USERS_PORT` as the original service called it). */
  port: number;
  /** Address to listen on (`HOST`). */
  host: string;
  storage: StorageConfig;
  /** pino level (`LOG_LEVEL`). */
  logLevel: string;
  /** Human-readable logs instead of JSON lines (`LOG_PRETTY`). */
  logPretty: boolean;
  /** Bearer keys that callers must present; empty means open access (`SERVICE_KEYS`). */
  serviceKeys: string[];
  /** Whether an operator accepted an open listener on a non-loopback address. */
  allowOpenAccess: boolean;
  /** Seconds without an update after which a session counts as gone; 0 = never. */
  sessionIdleTimeout: number;
  /** Failed logins of one user name within the window before logins are refused. */
  loginMaxFailures: number;
  /** Seconds over which failed logins are counted, and the lock-out lasts. */
  loginWindow: number;
  /** Failed logins from one address within the window before it is refused. */
  loginMaxFailuresPerAddress: number;
}

/** Thrown when the environment holds values the service cannot run with. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** A service key shorter than this can be guessed; refuse it at start. */
export const SERVICE_KEY_MIN_LENGTH = 32;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOOPBACK_HOSTS = new Set(['localhost', '::1']);

type Env = Record<string, string | undefined>;

/** Reads and checks every variable, reporting all problems together. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const storage = readStorage(read);
  const serviceKeys = readServiceKeys(read);
  const config: Config = {
    port: read.integer(env.PORT !== undefined ? 'PORT' : 'USERS_PORT', 30_100, 1, 65_535),
    host: read.text('HOST', '127.0.0.1'),
    storage,
    logLevel: read.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    logPretty: read.flag('LOG_PRETTY', false),
    serviceKeys,
    allowOpenAccess: read.flag('ALLOW_OPEN_ACCESS', false),
    sessionIdleTimeout: read.integer('SESSION_IDLE_TIMEOUT', 0, 0, 31_536_000),
    loginMaxFailures: read.integer('LOGIN_MAX_FAILURES', 5, 1, 1_000),
    loginWindow: read.integer('LOGIN_WINDOW', 900, 1, 86_400),
    loginMaxFailuresPerAddress: read.integer('LOGIN_MAX_FAILURES_PER_ADDRESS', 1_000, 1, 1e9),
  };

  if (config.serviceKeys.length === 0 && !config.allowOpenAccess && !isLoopback(config.host)) {
    problems.push(
      `HOST: ${config.host} is not a loopback address and no SERVICE_KEYS are set; ` +
        'set SERVICE_KEYS (or SERVICE_KEYS_FILE), or ALLOW_OPEN_ACCESS=true to serve without keys',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Whether a listen address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  if (LOOPBACK_HOSTS.has(host)) return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function readStorage(read: EnvReader): StorageConfig {
  const url = read.optional('DATABASE_URL');
  if (url !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url)) {
      read.fail('DATABASE_URL', 'a postgres://user@host:port/database URL', '(not shown)');
    }
    return { kind: 'postgres', url };
  }
  const dataDir = read.text('DATA_DIR', './data');
  if (dataDir === ':memory:') return { kind: 'sqlite', file: ':memory:' };
  return { kind: 'sqlite', file: `${dataDir.replace(/\/+$/, '')}/users.sqlite` };
}

function readServiceKeys(read: EnvReader): string[] {
  const inline = read.optional('SERVICE_KEYS');
  const file = read.optional('SERVICE_KEYS_FILE');
  let keys: string[] = [];
  if (inline !== undefined) keys = inline.split(',');
  if (file !== undefined) {
    try {
      keys = keys.concat(readFileSync(file, 'utf8').split('\n'));
    } catch (error) {
      read.fail(
        'SERVICE_KEYS_FILE',
        'a readable file with one key a line',
        (error as Error).message,
      );
    }
  }
  keys = keys.map((key) => key.trim()).filter((key) => key !== '');
  // An operator who set either variable wants keys; starting open instead would fail open.
  if (keys.length === 0 && (inline !== undefined || file !== undefined)) {
    read.fail(
      inline !== undefined ? 'SERVICE_KEYS' : 'SERVICE_KEYS_FILE',
      'at least one key',
      'no key',
    );
  }
  const short = keys.filter((key) => key.length < SERVICE_KEY_MIN_LENGTH).length;
  if (short > 0) {
    read.fail(
      'SERVICE_KEYS',
      `keys of at least ${SERVICE_KEY_MIN_LENGTH} characters`,
      `${short} shorter key(s)`,
    );
  }
  return [...new Set(keys)];
}

/** Reads one variable at a time, collecting problems instead of throwing. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  optional(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  text(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
    this.fail(name, `an integer from ${min} to ${max}`, raw);
    return fallback;
  }

  flag(name: string, fallback: boolean): boolean {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    this.fail(name, 'true or false', raw);
    return fallback;
  }

  oneOf(name: string, fallback: string, accepted: string[]): string {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (accepted.includes(raw)) return raw;
    this.fail(name, `one of ${accepted.join(', ')}`, raw);
    return fallback;
  }

  fail(name: string, accepted: string, got: string): void {
    this.problems.push(`${name}: expected ${accepted}, got ${JSON.stringify(got)}`);
  }
}
