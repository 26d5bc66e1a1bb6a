import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The port range set aside for benchmark processes on this machine. */
const FIRST_PORT = 34_000;
const LAST_PORT = 34_099;

/** How long a process may take to answer its first request. */
const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;

/** How long a process may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

/** A child process serving HTTP on loopback. */
export interface Served {
  child: ChildProcess;
  url: string;
  /** Resident memory now and its high-water mark, in MiB, from /proc. */
  memory(): { rssMiB: number; peakMiB: number };
  stop(): Promise<void>;
}

/** Finds a port in the benchmark range that nothing listens on. */
export async function freePort(): Promise<number> {
  for (let port = FIRST_PORT; port <= LAST_PORT; port++) {
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${FIRST_PORT}..${LAST_PORT}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Starts `node <args>` with extra environment and waits until `readyPath` answers. */
export async function serve(
  args: string[],
  env: Record<string, string>,
  readyPath: string,
): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}${readyPath}`);
  return {
    child,
    url,
    memory: () => readMemory(child.pid ?? 0),
    stop: () => stop(child),
  };
}

async function waitReady(child: ChildProcess, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await sleep(READY_POLL_MS);
  }
  child.kill('SIGKILL');
  throw new Error(`${url} did not answer within ${READY_TIMEOUT_MS} ms`);
}

/** Reads VmRSS and VmHWM of a process; both in MiB. */
export function readMemory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { rssMiB: kib('VmRSS') / 1_024, peakMiB: kib('VmHWM') / 1_024 };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
