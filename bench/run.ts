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
import { CEILING, PHASES, type Workload } from './phases.js';
import { serve } from './processes.js';
import { type BenchReport, type EngineRun, renderReport } from './report.js';
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
  const ceiling = await measureCeiling(small, settings);
  log(`hashing bare for ${options.duration} s, twice`);
  const argon2 = await argon2Rate(options.connections, options.duration);
  const legacy = await legacyRate(options.connections, options.duration);

  const runs: EngineRun[] = [];
  const plans: BenchReport['plans'] = [];
  for (const engine of options.engines) {
    const database =
      engine === 'sqlite' ? sqliteDatabase() : await postgresDatabase(options.postgresUrl);
    runs.push(await measureService(database, small, settings, options, plans));
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
    scale = {
      small: smallPostgres,
      large: await measureService(database, large, settings, options, plans),
    };
  }

  const report: BenchReport = {
    command: commandLine(process.argv.slice(2)),
    ...settings,
    postgresVersion: await postgresVersion(options.postgresUrl),
    ceiling,
    argon2,
    legacy,
    runs,
    ...(scale ? { scale } : {}),
    plans,
  };
  const markdown = renderReport(report);
  writeFileSync(join(RESULTS_DIR, 'latest.md'), `${markdown}\n`);
  process.stdout.write(`${markdown}\n`);
}

/** Loads the bare node:http server with the session read's request shape. */
async function measureCeiling(plan: SeedPlan, settings: LoadSettings) {
  log('measuring the ceiling');
  const server = await serve(['--import', 'tsx', 'bench/ceiling-server.ts'], {}, '/');
  try {
    const memory = () => server.memory().rssMiB;
    return await runPhase(server.url, CEILING, plan, settings, memory);
  } finally {
    await server.stop();
  }
}

/** Seeds a database, starts `node dist/main.js` on it, and runs every phase. */
async function measureService(
  database: BenchDatabase,
  plan: SeedPlan,
  settings: LoadSettings,
  options: BenchOptions,
  plans: BenchReport['plans'],
): Promise<EngineRun> {
  const label = `${database.engine === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${count(plan.users)} users`;
  try {
    log(`${label}: seeding`);
    await migrateAndSeed(database, plan, (message) => log(`${label}: ${message}`));
    log(`${label}: the session store alone`);
    const store = await storeRates(database, plan, settings.connections, settings.duration);
    const run = await loadService(database, label, plan, settings, options);
    plans.push({ label, plans: await explain(database, plan) });
    return { ...run, store };
  } finally {
    await database.drop();
  }
}

async function loadService(
  database: BenchDatabase,
  label: string,
  workload: Workload,
  settings: LoadSettings,
  options: BenchOptions,
): Promise<Omit<EngineRun, 'store'>> {
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
    const results = [];
    for (const phase of PHASES.filter((phase) => phase.name.includes(options.only))) {
      log(`${label}: ${phase.name}`);
      const memory = () => service.memory().rssMiB;
      results.push(await runPhase(service.url, phase, workload, settings, memory));
    }
    return { engine: database.engine, label, results, peakMiB: service.memory().peakMiB };
  } finally {
    await service.stop();
  }
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
