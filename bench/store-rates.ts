import { SessionStore } from '../src/sessions/store.js';
import type { BenchDatabase } from './databases.js';
import { pick, type Workload } from './phases.js';
import { rate } from './rate.js';

/** How fast the service's own session store runs one statement, with no HTTP in front. */
export interface StoreRate {
  /** The service phase that sends the same statement. */
  phase: string;
  perSecond: number;
}

/**
 * The database path alone: the service's SessionStore (Kysely, the driver,
 * the database) in the benchmark process, as many calls in flight as the
 * load has connections. Its rate bounds what the service can answer over
 * HTTP on the same machine, whatever the framework costs.
 */
export async function storeRates(
  database: BenchDatabase,
  workload: Workload,
  concurrency: number,
  seconds: number,
): Promise<StoreRate[]> {
  const storage = database.open();
  const sessions = new SessionStore(storage.db, 0);
  try {
    const read = await rate(concurrency, seconds, () => sessions.find(pick(workload.sessions)));
    const update = await rate(concurrency, seconds, () =>
      sessions.update(pick(workload.sessions), {
        externalIpAddress: `203.0.113.${pick(254)}`,
        externalClientPort: 1_024 + pick(60_000),
        internalIpAddress: `192.168.1.${pick(254)}`,
        internalClientPort: 1_024 + pick(60_000),
      }),
    );
    return [
      { phase: 'GET /sessions/:ownerId', perSecond: read },
      { phase: 'PUT /sessions/:ownerId (network)', perSecond: update },
    ];
  } finally {
    await storage.close();
  }
}
