/**
 * Fills a PostgreSQL database with users and live sessions for load tests:
 *
 *   npx tsx bench/seed.ts --database-url postgres://postgres@127.0.0.1:5432/big \
 *     --users 1000000 --sessions 100000
 *
 * The database must exist and be empty; the service's migrations create the
 * schema first. Every user's password is BENCH_PASSWORD.
 */
import { parseArgs } from 'node:util';
import { openStorage } from '../src/db/dialect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { seed } from './seeding.js';

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    users: { type: 'string', default: '1000000' },
    sessions: { type: 'string', default: '100000' },
    'legacy-users': { type: 'string', default: '0' },
  },
});
const url = values['database-url'];
if (url === undefined) {
  process.stderr.write('seed: --database-url postgres://... is required\n');
  process.exit(1);
}

const started = performance.now();
const storage = openStorage({ kind: 'postgres', url });
try {
  await migrateToLatest(storage.db);
  const plan = {
    users: Number(values.users),
    sessions: Number(values.sessions),
    legacyUsers: Number(values['legacy-users']),
  };
  await seed(storage.db, 'postgres', plan, (message) => process.stdout.write(`${message}\n`));
} finally {
  await storage.close();
}
process.stdout.write(`seeded in ${((performance.now() - started) / 1_000).toFixed(1)} s\n`);
