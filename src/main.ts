import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { buildApp, REDACTED_PATHS } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openStorage, type Storage } from './db/dialect.js';
import { migrateToLatest } from './db/migrate.js';

/** Milliseconds the shutdown may take for requests in flight before the process gives up. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Backoff between attempts to reach the database at start: 1 s doubling up to 30 s. */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`config: ${problem}\n`);
    process.exit(1);
  }
}

const config = readConfig();
const logger = pino({
  level: config.logLevel,
  redact: REDACTED_PATHS,
  ...(config.logPretty ? { transport: { target: 'pino-pretty' } } : {}),
});

/** Opens and migrates the database, retrying with backoff while it cannot be reached. */
async function connect(): Promise<Storage> {
  for (
    let attempt = 1, wait = FIRST_RETRY_MS;
    ;
    attempt++, wait = Math.min(wait * 2, MAX_RETRY_MS)
  ) {
    const storage = openStorage(config.storage);
    try {
      await storage.ping();
      await migrateToLatest(storage.db);
      logger.info({ engine: storage.engine, attempt }, 'database ready');
      return storage;
    } catch (error) {
      await storage.close().catch(() => {});
      if (storage.engine === 'sqlite') throw error;
      const reason = (error as Error).message;
      logger.warn({ attempt, retryInMs: wait, reason }, 'database unreachable, retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

const storage = await connect();
const app = await buildApp({ config, storage, logger });

closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'shutting down after an unexpected error');
  else logger.info({ signal }, 'shutdown started');
  await app.close();
  logger.info('http server closed');
  await storage.close();
  logger.info('database closed');
});

await app.listen({ port: config.port, host: config.host });
