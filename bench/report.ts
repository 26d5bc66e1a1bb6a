import { cpus, release, totalmem } from 'node:os';
import type { QueryPlan } from './explain.js';
import type { HashRate } from './hashing.js';
import type { PhaseResult } from './load.js';
import type { StoreRate } from './store-rates.js';

/** A service phase with the baseline measured right before it. */
export interface MeasuredPhase extends PhaseResult {
  /** The bare node:http server under the same load (every phase but logins). */
  ceiling?: PhaseResult;
  /** The bare hash work with the service's parameters (login phases). */
  bare?: HashRate;
}

/** The results of one service run on one database. */
export interface EngineRun {
  engine: 'sqlite' | 'postgres';
  /** A label for the table: the engine and the seeded size. */
  label: string;
  results: MeasuredPhase[];
  /** The service's VmHWM when the run ended, in MiB. */
  peakMiB: number;
  /** The session store's rates with no HTTP in front, measured before the service started. */
  store: StoreRate[];
}

/** Everything one `npm run bench` measured. */
export interface BenchReport {
  command: string;
  connections: number;
  duration: number;
  postgresVersion: string;
  runs: EngineRun[];
  /** The 1k-user and the 1M-user PostgreSQL runs, when the scale step ran. */
  scale?: { small: EngineRun; large: EngineRun };
  plans: Array<{ label: string; plans: QueryPlan[] }>;
}

/** Least login rate through the service, as a fraction of the bare hash rate. */
const LOGIN_TARGET = 0.85;
/** Least figure at scale, as a fraction of the same figure at 1,000 users. */
const SCALE_TARGET = 0.8;
/** Most p99 latency of session reads on PostgreSQL, in ms. */
const SESSION_READ_P99_MS = 15;
/** Most resident memory under load, in MiB. */
const MEMORY_LIMIT_MIB = 200;

/** Renders the report as Markdown, ready to paste into bench/RESULTS.md. */
export function renderReport(report: BenchReport): string {
  return [
    machine(report),
    throughput(report),
    storePath(report),
    hashing(report),
    memory(report),
    report.scale ? scale(report.scale) : '',
    ...report.plans.map(({ label, plans }) => explainTable(label, plans)),
  ]
    .filter((section) => section !== '')
    .join('\n\n');
}

function machine(report: BenchReport): string {
  const cpu = cpus();
  return [
    '### Machine and command',
    '',
    `- CPU: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores; memory ${gib(totalmem())} GiB`,
    `- Linux ${release()}, Node ${process.version}, PostgreSQL ${report.postgresVersion}`,
    `- \`${report.command}\`: ${report.connections} connections, ${report.duration} s a phase,` +
      ' autocannon in the same machine (it takes part of the two cores)',
    `- measured ${new Date().toISOString()}`,
  ].join('\n');
}

function throughput(report: BenchReport): string {
  const rows: string[] = [];
  for (const run of report.runs) {
    for (const result of run.results) {
      const ceiling = result.ceiling?.requestsPerSecond;
      const ratio = ceiling === undefined ? Number.NaN : result.requestsPerSecond / ceiling;
      const target = ceilingTarget(run, result, ratio);
      rows.push(
        row([
          run.label,
          result.phase.name,
          ...figures(result),
          ceiling === undefined ? '-' : ceiling.toFixed(0),
          fixed(ratio),
          target,
        ]),
      );
    }
  }
  return [
    `### Requests (${report.connections} connections, ${report.duration} s each)`,
    '',
    "Each row's ceiling is the bare node:http server loaded the same way just before it.",
    '',
    row([
      'database',
      'request',
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'RSS MiB',
      'ceiling req/s',
      '× ceiling',
      'target',
    ]),
    row(Array(10).fill('---')),
    ...rows,
  ].join('\n');
}

function figures(result: PhaseResult): string[] {
  return [
    Math.round(result.requestsPerSecond).toString(),
    result.p50.toString(),
    result.p99.toString(),
    result.errors.toString(),
    result.peakRssMiB.toFixed(0),
  ];
}

function ceilingTarget(run: EngineRun, result: PhaseResult, ratio: number): string {
  const checks: string[] = [];
  const least = result.phase.ceilingTarget?.[run.engine];
  if (least !== undefined) checks.push(`≥ ${least} ${mark(ratio >= least)}`);
  if (run.engine === 'postgres' && result.phase.name.startsWith('GET /sessions/:')) {
    checks.push(`p99 < ${SESSION_READ_P99_MS} ms ${mark(result.p99 < SESSION_READ_P99_MS)}`);
  }
  if (result.phase.login) checks.push('see hashing');
  return checks.join(', ');
}

function storePath(report: BenchReport): string {
  const rows: string[] = [];
  for (const run of report.runs) {
    for (const store of run.store) {
      const service = run.results.find((result) => result.phase.name === store.phase);
      const served = service?.requestsPerSecond ?? Number.NaN;
      rows.push(
        row([
          run.label,
          store.phase,
          store.perSecond.toFixed(0),
          Number.isNaN(served) ? '' : served.toFixed(0),
          Number.isNaN(served) ? '' : fixed(served / store.perSecond),
        ]),
      );
    }
  }
  const inFlight = `${report.connections} in flight`;
  return [
    `### The database path alone (the service's SessionStore, ${inFlight}, no HTTP)`,
    '',
    row(['database', 'statement of', 'store alone /s', 'through HTTP req/s', 'HTTP / store']),
    row(Array(5).fill('---')),
    ...rows,
  ].join('\n');
}

function hashing(report: BenchReport): string {
  const rows: string[] = [];
  for (const run of report.runs) {
    for (const result of run.results) {
      if (!result.phase.login || !result.bare) continue;
      const ratio = result.operationsPerSecond / result.bare.perSecond;
      const target = result.phase.login === 'argon2' ? `≥ ${LOGIN_TARGET} ` : '';
      rows.push(
        row([
          run.label,
          result.bare.name,
          result.bare.perSecond.toFixed(1),
          result.operationsPerSecond.toFixed(1),
          fixed(ratio),
          target + (target ? mark(ratio >= LOGIN_TARGET) : ''),
        ]),
      );
    }
  }
  return [
    `### Password hashing (${report.connections} in flight, the service's ARGON2_OPTIONS)`,
    '',
    'Each bare rate is measured just before its login phase.',
    '',
    row(['database', 'bare work', 'bare /s', 'logins/s', 'ratio', 'target']),
    row(Array(6).fill('---')),
    ...rows,
  ].join('\n');
}

function memory(report: BenchReport): string {
  const runs = report.scale ? [...report.runs, report.scale.large] : report.runs;
  const rows = runs.map((run) => {
    const underLoad = Math.max(...run.results.map((result) => result.peakRssMiB));
    const ok = mark(run.peakMiB < MEMORY_LIMIT_MIB);
    return row([
      run.label,
      underLoad.toFixed(0),
      run.peakMiB.toFixed(0),
      `< ${MEMORY_LIMIT_MIB} ${ok}`,
    ]);
  });
  return [
    '### Service memory',
    '',
    row(['database', 'largest VmRSS sampled, MiB', 'VmHWM, MiB', 'target']),
    row(Array(4).fill('---')),
    ...rows,
  ].join('\n');
}

/**
 * Each size's figures against each other, raw and against the baseline taken
 * beside each (the ceiling, or the bare hash rate for logins), which takes
 * the machine's drift between the two runs out. The target is judged on the
 * second.
 */
function scale(runs: { small: EngineRun; large: EngineRun }): string {
  const rows = runs.large.results.map((large) => {
    const small = runs.small.results.find((result) => result.phase === large.phase);
    const raw = large.operationsPerSecond / (small?.operationsPerSecond ?? Number.NaN);
    const ratio = againstBaseline(large) / (small ? againstBaseline(small) : Number.NaN);
    return row([
      large.phase.name,
      (small?.operationsPerSecond ?? Number.NaN).toFixed(0),
      large.operationsPerSecond.toFixed(0),
      fixed(raw),
      fixed(ratio),
      `${small?.p99 ?? '?'} / ${large.p99}`,
      `≥ ${SCALE_TARGET} ${mark(ratio >= SCALE_TARGET)}`,
    ]);
  });
  return [
    `### Scale on PostgreSQL: ${runs.small.label} against ${runs.large.label}`,
    '',
    row([
      'request',
      'ops/s small',
      'ops/s large',
      'raw ratio',
      'ratio, each against its baseline',
      'p99 ms small / large',
      'target',
    ]),
    row(Array(7).fill('---')),
    ...rows,
  ].join('\n');
}

/** A phase's rate as a fraction of the baseline measured beside it. */
function againstBaseline(result: MeasuredPhase): number {
  if (result.bare) return result.operationsPerSecond / result.bare.perSecond;
  if (result.ceiling) return result.operationsPerSecond / result.ceiling.operationsPerSecond;
  return Number.NaN;
}

function explainTable(label: string, plans: QueryPlan[]): string {
  return [
    `### Hot queries on ${label} (EXPLAIN of the statements the stores issue)`,
    '',
    row(['query', 'plan', 'index']),
    row(['---', '---', '---']),
    ...plans.map((plan) => row([plan.name, plan.plan, mark(plan.indexed)])),
  ].join('\n');
}

function row(cells: string[]): string {
  return `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
}

function mark(ok: boolean): string {
  return ok ? '✓' : '✗';
}

function fixed(ratio: number): string {
  return Number.isFinite(ratio) ? ratio.toFixed(2) : '-';
}

function gib(bytes: number): string {
  return (bytes / 1_024 ** 3).toFixed(0);
}
