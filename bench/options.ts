import { parseArgs } from 'node:util';

/** Everything one run of the benchmark can be told, from flags or the environment. */
export interface BenchOptions {
  /** Seconds each load phase lasts. */
  duration: number;
  /** Concurrent HTTP connections in every phase. */
  connections: number;
  /** Which databases to run the service on. */
  engines: Array<'sqlite' | 'postgres'>;
  /** Server URL for the PostgreSQL runs; a fresh database is created under it each time. */
  postgresUrl: string;
  /** Whether to add the 1,000,000-user PostgreSQL run. */
  scale: boolean;
  /** Users and live sessions of the scale run. */
  scaleUsers: number;
  scaleSessions: number;
  /** Start the service with `--cpu-prof`, writing profiles into bench/results/. */
  cpuProfile: boolean;
  /** Run only the service phases whose name contains this text (all when empty). */
  only: string;
}

/** Five seconds keeps the whole run, scale step included, well within ten minutes. */
const DEFAULT_DURATION_SECONDS = 5;

/** The connection count the targets are stated for. */
const DEFAULT_CONNECTIONS = 50;

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Reads the flags (`--duration 8`) with `BENCH_*` variables as defaults. */
export function readOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const env = process.env;
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: env.BENCH_DURATION },
      connections: { type: 'string', default: env.BENCH_CONNECTIONS },
      engines: { type: 'string', default: env.BENCH_ENGINES ?? 'sqlite,postgres' },
      'postgres-url': { type: 'string', default: env.BENCH_POSTGRES_URL },
      'no-scale': { type: 'boolean', default: env.BENCH_SCALE === 'false' },
      'scale-users': { type: 'string', default: env.BENCH_SCALE_USERS },
      'scale-sessions': { type: 'string', default: env.BENCH_SCALE_SESSIONS },
      'cpu-prof': { type: 'boolean', default: env.BENCH_CPU_PROF === 'true' },
      only: { type: 'string', default: env.BENCH_ONLY ?? '' },
    },
  });
  return {
    duration: positive(values.duration, DEFAULT_DURATION_SECONDS, 'duration'),
    connections: positive(values.connections, DEFAULT_CONNECTIONS, 'connections'),
    engines: readEngines(values.engines ?? ''),
    postgresUrl: values['postgres-url'] ?? DEFAULT_POSTGRES_URL,
    scale: !values['no-scale'],
    scaleUsers: positive(values['scale-users'], 1_000_000, 'scale-users'),
    scaleSessions: positive(values['scale-sessions'], 100_000, 'scale-sessions'),
    cpuProfile: values['cpu-prof'] ?? false,
    only: values.only ?? '',
  };
}

function positive(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`--${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function readEngines(raw: string): BenchOptions['engines'] {
  const engines = raw.split(',').filter((engine) => engine !== '');
  for (const engine of engines) {
    if (engine !== 'sqlite' && engine !== 'postgres') {
      throw new Error(`--engines: expected sqlite and/or postgres, got ${JSON.stringify(engine)}`);
    }
  }
  return engines as BenchOptions['engines'];
}
