/**
 * `npm run bench`: builds the service, loads it with autocannon on loopback
 * on the embedded database and on PostgreSQL, measures the bare ceilings
 * (node:http, argon2id, PBKDF2) in the same run, and prints a Markdown
 * report. Progress goes to stderr, the report to stdout and to
 * bench/results/latest.md. See bench/README.md for the flags.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import {
  type BenchDatabase,
  migrateAndSeed,
  postgresDatabase,
  sqliteDatabase,
} from './databases.js';
import { explainPostgres, explainSqlite, type QueryPlan } from './explain.js';
import { argon2Rate, legacyRate } from './hashing.js';
import { type LoadSettings, runPhase } from './load.js';
import { type BenchOptions, readOptions } from './options.js';
import { CEILING, PHASES, type Phase, type Workload } from './phases.js';
import { serve } from './processes.js';
import { type BenchReport, type EngineRun, type MeasuredPhase, renderReport } from './report.js';
import type { SeedPlan } from './seeding.js';
import { storeRates } from './store-rates.js';

/** The everyday size: a thousand accounts, half of them in the game. */
const SMALL = { users: 1_000, sessions: 500 };

/** Legacy users to seed per second of a phase: above any legacy login rate on two cores. */
const LEGACY_USERS_PER_SECOND = 300;

const RESULTS_DIR = 'bench/results';

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

async function main(): Promise<void> {
  const options = readOptions();
  const settings: LoadSettings = { connections: options.connections, duration: options.duration };
  mkdirSync(RESULTS_DIR, { recursive: true });

  log('building the service');
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });

  const legacyUsers = options.duration * LEGACY_USERS_PER_SECOND;
  const small: SeedPlan = { ...SMALL, legacyUsers };
  const ceiling = await serve(['--import', 'tsx', 'bench/ceiling-server.ts'], {}, '/');
  const bench: Bench = { options, settings, ceilingUrl: ceiling.url };
  try {
    const runs: EngineRun[] = [];
    const plans: BenchReport['plans'] = [];
    for (const engine of options.engines) {
      const database =
        engine === 'sqlite' ? sqliteDatabase() : await postgresDatabase(options.postgresUrl);
      runs.push(await measureService(bench, database, small, plans));
    }

    let scale: BenchReport['scale'];
    const smallPostgres = runs.find((run) => run.engine === 'postgres');
    if (options.scale && smallPostgres) {
      const large: SeedPlan = {
        users: options.scaleUsers,
        sessions: options.scaleSessions,
        legacyUsers,
      };
      const database = await postgresDatabase(options.postgresUrl);
      scale = { small: smallPostgres, large: await measureService(bench, database, large, plans) };
    }

    const report: BenchReport = {
      command: commandLine(process.argv.slice(2)),
      ...settings,
      postgresVersion: await postgresVersion(options.postgresUrl),
      runs,
      ...(scale ? { scale } : {}),
      plans,
    };
    const markdown = renderReport(report);
    writeFileSync(join(RESULTS_DIR, 'latest.md'), `${markdown}\n`);
    process.stdout.write(`${markdown}\n`);
  } finally {
    await ceiling.stop();
  }
}

/** What every service run shares: the options, the load, and the ceiling server. */
interface Bench {
  options: BenchOptions;
  settings: LoadSettings;
  /** The bare node:http server, up for the whole run and idle between its phases. */
  ceilingUrl: string;
}

/** Seeds a database, starts `node dist/main.js` on it, and runs every phase. */
async function measureService(
  bench: Bench,
  database: BenchDatabase,
  plan: SeedPlan,
  plans: BenchReport['plans'],
): Promise<EngineRun> {
  const { connections, duration } = bench.settings;
  const engineName = database.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const label = `${engineName}, ${count(plan.users)} users`;
  try {
    log(`${label}: seeding`);
    await migrateAndSeed(database, plan, (message) => log(`${label}: ${message}`));
    log(`${label}: the session store alone`);
    const store = await storeRates(database, plan, connections, duration);
    const run = await loadService(bench, database, label, plan);
    plans.push({ label, plans: await explain(database, plan) });
    return { ...run, store };
  } finally {
    await database.drop();
  }
}

/**
 * Runs each phase right after its baseline: the ceiling server under the same
 * load, or the bare hash work for a login phase. This machine's speed drifts
 * by a factor of two within minutes (other virtual machines share its host),
 * so a ratio is only sound between figures taken side by side.
 */
async function loadService(
  bench: Bench,
  database: BenchDatabase,
  label: string,
  workload: Workload,
): Promise<Omit<EngineRun, 'store'>> {
  const { options, settings } = bench;
  const profile = options.cpuProfile
    ? [
        '--cpu-prof',
        '--cpu-prof-dir',
        join(RESULTS_DIR, 'profiles'),
        '--cpu-prof-name',
        profileName(label),
      ]
    : [];
  const service = await serve(
    [...profile, 'dist/main.js'],
    { ...database.env, LOG_LEVEL: 'warn' },
    '/ping',
  );
  try {
    const results: MeasuredPhase[] = [];
    const memory = () => service.memory().rssMiB;
    for (const phase of PHASES.filter((phase) => phase.name.includes(options.only))) {
      log(`${label}: ${phase.name}`);
      const baseline = await measureBaseline(bench, phase, workload);
      const result = await runPhase(service.url, phase, workload, settings, memory);
      results.push({ ...result, ...baseline });
    }
    return { engine: database.engine, label, results, peakMiB: service.memory().peakMiB };
  } finally {
    await service.stop();
  }
}

/** The figure a phase is compared with, measured now. */
async function measureBaseline(
  bench: Bench,
  phase: Phase,
  workload: Workload,
): Promise<Pick<MeasuredPhase, 'ceiling' | 'bare'>> {
  const { connections, duration } = bench.settings;
  if (phase.login === 'argon2') return { bare: await argon2Rate(connections, duration) };
  if (phase.login === 'legacy') return { bare: await legacyRate(connections, duration) };
  const idle = () => 0;
  return { ceiling: await runPhase(bench.ceilingUrl, CEILING, workload, bench.settings, idle) };
}

/** EXPLAINs the hot queries; a user past the sessions is free to log in and out. */
function explain(database: BenchDatabase, plan: SeedPlan): Promise<QueryPlan[]> {
  const freeUser = plan.sessions + 1;
  if (database.url) return explainPostgres(database.url, freeUser);
  return explainSqlite(join(database.env.DATA_DIR ?? '', 'users.sqlite'), freeUser);
}

async function postgresVersion(url: string): Promise<string> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await client`show server_version`;
    return String(row?.server_version ?? 'unknown');
  } catch {
    return 'unreachable';
  } finally {
    await client.end();
  }
}

function commandLine(args: string[]): string {
  return args.length === 0 ? 'npm run bench' : `npm run bench -- ${args.join(' ')}`;
}

function profileName(label: string): string {
  return `${label.replace(/[^A-Za-z0-9]+/g, '-')}-${process.pid}.cpuprofile`;
}

function count(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n);
}

await main();
