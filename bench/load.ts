import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import type { Phase, Workload } from './phases.js';

/** How often resident memory is sampled while a phase runs. */
const MEMORY_SAMPLE_MS = 250;

/** The longest wait for a phase's queued work (hashes, mostly) to finish before the next. */
const MAX_DRAIN_MS = 15_000;
const MIN_DRAIN_MS = 500;

/** What one phase measured. */
export interface PhaseResult {
  phase: Phase;
  /** HTTP requests answered per second, whatever their status. */
  requestsPerSecond: number;
  /** Successful operations per second (a login cycle counts once). */
  operationsPerSecond: number;
  p50: number;
  p99: number;
  /** Connection errors, timeouts and answers outside 2xx. */
  errors: number;
  /** Largest resident set of the server while the phase ran, in MiB. */
  peakRssMiB: number;
}

/** Load settings shared by every phase of a run. */
export interface LoadSettings {
  connections: number;
  duration: number;
}

/** Runs one phase against a server and samples its memory meanwhile. */
export async function runPhase(
  url: string,
  phase: Phase,
  workload: Workload,
  settings: LoadSettings,
  rssMiB: () => number,
): Promise<PhaseResult> {
  let peakRssMiB = rssMiB();
  const sampler = setInterval(() => {
    peakRssMiB = Math.max(peakRssMiB, rssMiB());
  }, MEMORY_SAMPLE_MS);
  try {
    const result = await autocannon({
      url,
      connections: settings.connections,
      duration: settings.duration,
      requests: phase.steps(workload),
    });
    const seconds = result.duration;
    const operationsPerSecond = result['2xx'] / phase.requestsPerOperation / seconds;
    await drain(settings.connections, operationsPerSecond);
    return {
      phase,
      requestsPerSecond: result.requests.total / seconds,
      operationsPerSecond,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
      peakRssMiB,
    };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * Waits for requests the server still works on after autocannon hung up,
 * about one per connection, so that they do not slow the next phase.
 */
function drain(connections: number, operationsPerSecond: number): Promise<void> {
  const estimate = (connections / Math.max(operationsPerSecond, 1)) * 1_000;
  return sleep(Math.min(MAX_DRAIN_MS, Math.max(MIN_DRAIN_MS, estimate)));
}
