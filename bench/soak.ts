/**
 * Soak: several master-server clients replay a day's traffic in a loop for a
 * number of minutes, then the run reports requests, errors by status and the
 * service's resident memory at the start and the end.
 *
 *   npm run soak -- [--minutes 10] [--clients 8] [--players 20]
 *                   [--base http://127.0.0.1:30100 --pid 1234]
 *
 * Without --base it starts its own service (`node --import tsx src/main.ts`)
 * on a free port, on DATABASE_URL when set and a temporary data folder
 * otherwise. With --base, pass --pid to read that process's memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

/** A request gets this long before it counts as an error. */
const REQUEST_TIMEOUT_MS = 10_000;

/** How long a started service may take to answer `/health/live`. */
const START_TIMEOUT_MS = 30_000;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Tally {
  requests: number;
  /** Answers outside 2xx by status, and requests that got none by error name. */
  errors: Map<string, number>;
}

const { values: options } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '8' },
    players: { type: 'string', default: '20' },
    base: { type: 'string' },
    pid: { type: 'string' },
  },
});

const minutes = Number(options.minutes);
const clients = Number(options.clients);
const players = Number(options.players);

/** Reads VmRSS of a process from /proc, in MiB. */
function rssMiB(pid: number | undefined): string {
  if (pid === undefined) return 'unknown (no --pid)';
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return `${(kib / 1_024).toFixed(1)} MiB`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startService(): Promise<{ base: string; child: ChildProcess; dataDir?: string }> {
  const port = await freePort();
  const dataDir = process.env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'soak-'));
  const storage = dataDir ? { DATA_DIR: dataDir } : { DATABASE_URL: process.env.DATABASE_URL };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...storage, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const live = await fetch(`${base}/health/live`).catch(() => undefined);
    if (live?.ok) return { base, child, dataDir };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`the service did not start within ${START_TIMEOUT_MS} ms`);
}

/** Sends one request, counts it, and gives back the JSON answer of a 2xx. */
async function send(tally: Tally, base: string, method: Method, path: string, body?: unknown) {
  tally.requests += 1;
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.ok) return text === '' ? undefined : JSON.parse(text);
    const key = String(response.status);
    tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
  } catch (error) {
    const key = (error as Error).name;
    tally.errors.set(key, (tally.errors.get(key) ?? 0) + 1);
  }
  return undefined;
}

/**
 * One master server: it signs its players up once, then plays rounds of a
 * day until the end: every player logs in, punches its three holes, moves
 * through channels and rooms, has its profile read and updated, and logs out,
 * while the server polls /ping and lists the lobby.
 */
async function masterServer(client: number, base: string, endAt: number, tally: Tally) {
  const ids: number[] = [];
  for (let p = 0; p < players; p++) {
    const user = {
      username: `s${client}p${p}`,
      playername: `Soak ${client}-${p}`,
      password: 'soak-secret',
    };
    const answer = await send(tally, base, 'POST', '/users', user);
    if (answer) ids.push(answer.userId);
  }
  for (let round = 0; Date.now() < endAt; round++) {
    await send(tally, base, 'GET', '/ping');
    for (const [p, userId] of ids.entries()) {
      if (Date.now() >= endAt) break;
      const credentials = { username: `s${client}p${p}`, password: 'soak-secret' };
      const legacy = (round + p) % 2 === 0;
      const login = await send(
        tally,
        base,
        'POST',
        legacy ? '/users/session' : '/sessions',
        credentials,
      );
      if (!login) continue;
      for (const [index, portId] of [0, 256, 512].entries()) {
        const punch = { portId, localPort: 27_005 + index, externalPort: 40_000 + p };
        await send(tally, base, 'POST', `/sessions/${userId}/holepunch`, punch);
      }
      const channel = { channelServerIndex: round % 3, channelIndex: p % 5 };
      await send(tally, base, 'PUT', `/sessions/${userId}/channel`, channel);
      await send(tally, base, 'PUT', `/sessions/${userId}`, { currentRoomId: (p % 4) + 1 });
      await send(tally, base, 'GET', `/sessions?channelServerIndex=${round % 3}&length=25`);
      const profile = await send(tally, base, 'GET', `/users/${userId}`);
      if (profile) {
        await send(tally, base, 'PUT', `/users/${userId}`, {
          wins: profile.wins + 1,
          kills: profile.kills + 3,
        });
      }
      await send(tally, base, 'POST', `/sessions/${userId}/heartbeat`);
      await send(
        tally,
        base,
        'DELETE',
        legacy ? '/users/session' : `/sessions/${userId}`,
        legacy ? { userId } : undefined,
      );
    }
  }
}

async function main(): Promise<void> {
  const own = options.base ? undefined : await startService();
  const base = options.base ?? (own?.base as string);
  const pid = options.pid ? Number(options.pid) : own?.child.pid;
  const tally: Tally = { requests: 0, errors: new Map() };

  const startedAt = Date.now();
  const rssAtStart = rssMiB(pid);
  console.log(`soak: ${clients} clients, ${players} players each, ${minutes} min against ${base}`);
  const endAt = startedAt + minutes * 60_000;
  await Promise.all(Array.from({ length: clients }, (_, n) => masterServer(n, base, endAt, tally)));
  const rssAtEnd = rssMiB(pid);
  const seconds = (Date.now() - startedAt) / 1_000;

  const errors = [...tally.errors.entries()].sort(([a], [b]) => a.localeCompare(b));
  const rate = (tally.requests / seconds).toFixed(0);
  const errorList = errors.map(([k, n]) => `${k}: ${n}`).join(', ');
  console.log(`requests      ${tally.requests} (${rate}/s over ${seconds.toFixed(0)} s)`);
  console.log(`errors        ${errors.length === 0 ? 'none' : errorList}`);
  console.log(`service RSS   start ${rssAtStart}, end ${rssAtEnd}`);

  if (own) {
    own.child.kill('SIGTERM');
    await new Promise((resolve) => own.child.once('exit', resolve));
    if (own.dataDir) rmSync(own.dataDir, { recursive: true, force: true });
  }
  process.exitCode = tally.errors.size === 0 ? 0 : 1;
}

await main();
