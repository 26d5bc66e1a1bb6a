import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp, REDACTED_PATHS } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { openStorage, type Storage } from './db/dialect.js';
import { isUnavailable } from './db/faults.js';
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
// Written synchronously: nothing waits in a buffer at exit, and a log reader
// that went away (a closed pipe) only ends the logging, never the process.
const logger = pino(
  { level: config.logLevel, redact: REDACTED_PATHS },
  config.logPretty
    ? pino.transport({ target: 'pino-pretty' })
    : pino.destination({ dest: 1, sync: true }),
);

/** What is open so far; the shutdown closes whichever parts exist. */
const running: { app?: FastifyInstance; storage?: Storage } = {};

closeWithGrace({ delay: SHUTDOWN_GRACE_MS, logger }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'shutting down after an unexpected error');
  else logger.info({ signal }, 'shutdown started');
  if (running.app) {
    await running.app.close();
    logger.info('http server closed');
  }
  if (running.storage) {
    await running.storage.close();
    logger.info('database closed');
  }
});

/**
 * Opens and migrates the database. While it cannot be reached, the attempt
 * is repeated with backoff; any other failure (a wrong role or database
 * name, a file that cannot be opened) will not mend itself, so it ends the
 * process with the reason.
 */
async function connect(): Promise<Storage> {
  const engine = config.storage.kind;
  for (let attempt = 1, wait = FIRST_RETRY_MS; ; attempt++) {
    let storage: Storage | undefined;
    try {
      storage = openStorage(config.storage);
      await storage.ping();
      await migrateToLatest(storage.db);
      logger.info({ engine, attempt }, 'database ready');
      return storage;
    } catch (error) {
      await storage?.close().catch(() => {});
      const reason = (error as Error).message;
      if (engine === 'sqlite' || !isUnavailable(error)) {
        logger.fatal({ engine, reason }, 'database cannot be used');
        process.exit(1);
      }
      logger.warn({ attempt, retryInMs: wait, reason }, 'database unreachable, retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, MAX_RETRY_MS);
    }
  }
}

running.storage = await connect();
running.app = await buildApp({ config, storage: running.storage, logger });
await running.app.listen({ port: config.port, host: config.host });
