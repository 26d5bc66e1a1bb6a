import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Config } from './config.js';
import type { Storage } from './db/dialect.js';
import { healthRoutes } from './health/routes.js';
import {
  answerClientError,
  answerFrameworkError,
  installErrorHandler,
  sendProblem,
} from './http/error-handler.js';
import { shuttingDown } from './http/errors.js';
import { installJsonBody } from './http/json-body.js';
import { Problem } from './http/schemas.js';
import { installServiceKeys } from './http/service-keys.js';
import { BODY_LIMIT_BYTES } from './limits.js';
import { legacySessionRoutes } from './sessions/legacy-routes.js';
import { sessionRoutes } from './sessions/routes.js';
import { SessionService } from './sessions/service.js';
import { SessionStore } from './sessions/store.js';
import { userRoutes } from './users/routes.js';
import { UserService } from './users/service.js';
import { UserStore } from './users/store.js';
import { LoginThrottle } from './users/throttle.js';

/** What the app is built from; the process file supplies real ones, tests their own. */
export interface AppOptions {
  config: Config;
  storage: Storage;
  /** A logger to use; without one, a JSON logger at the configured level (false: none). */
  logger?: FastifyBaseLogger | false;
  /** The clock, in milliseconds; tests move it to expire sessions and lock-outs. */
  now?: () => number;
}

/** Log paths that may carry a secret; pino replaces their values. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'serviceKeys',
  '*.serviceKeys',
];

/** Seconds between sweeps of idle sessions and expired login counters. */
const SWEEP_INTERVAL_SECONDS = 60;

/** Builds the HTTP app with every route, ready to listen or to be injected into. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, storage } = options;
  const now = options.now ?? Date.now;
  const logging: FastifyServerOptions =
    options.logger === undefined
      ? { logger: { level: config.logLevel, redact: REDACTED_PATHS } }
      : options.logger === false
        ? { logger: false }
        : { loggerInstance: options.logger };
  const app = Fastify({
    ...logging,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: false,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // 2019 master servers send GET /users/session with a JSON body.
  app.addHttpMethod('GET', { hasBody: true, overrideExisting: true });
  app.addSchema(Problem);
  installJsonBody(app);
  installErrorHandler(app);
  installDrain(app);
  installServiceKeys(app, config.serviceKeys);
  installMetrics(app, storage);
  await installDocs(app);

  const throttle = new LoginThrottle(
    storage.db,
    {
      maxFailures: config.loginMaxFailures,
      maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
      windowSeconds: config.loginWindow,
    },
    now,
  );
  const users = new UserService(new UserStore(storage.db), throttle);
  const sessionStore = new SessionStore(storage.db, config.sessionIdleTimeout, now);
  const sessions = new SessionService(sessionStore, users);

  await app.register(healthRoutes, {
    sessions,
    storage,
    metrics: app.metrics,
    startedAt: now(),
  });
  await app.register(userRoutes, { users });
  await app.register(sessionRoutes, { sessions });
  await app.register(legacySessionRoutes, { sessions });

  installSweeper(app, async () => {
    const sessions = await sessionStore.sweepIdle();
    const failures = await throttle.sweep();
    if (sessions > 0) app.log.info({ sessions }, 'idle sessions swept');
    if (failures > 0) app.log.debug({ failures }, 'expired login counters swept');
  });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

function installMetrics(app: FastifyInstance, storage: Storage): void {
  const registry = new Registry();
  registry.setDefaultLabels({ engine: storage.engine });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer, by route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.decorate('metrics', registry);
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown';
    requests.inc({ method: request.method, route, status: reply.statusCode });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1_000);
    request.log.debug(
      { route, status: reply.statusCode, ms: reply.elapsedTime },
      'request answered',
    );
    done();
  });
}

async function installDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'cso2-users-service',
        description: 'Users and sessions for Counter-Strike Online 2 master servers',
        version: '1.0.0',
      },
      components: {
        securitySchemes: { serviceKey: { type: 'http', scheme: 'bearer' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

/**
 * Once close() has begun, answers carry `Connection: close`, so that
 * keep-alive clients drop their sockets as requests in flight finish (fastify
 * only closes the sockets that are idle when close() starts, and the others
 * would hold the shutdown open until their keep-alive timeout), and requests
 * that still arrive are refused with a 503 problem.
 */
function installDrain(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    sendProblem(reply, shuttingDown());
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}

function installSweeper(app: FastifyInstance, sweep: () => Promise<void>): void {
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      sweep().catch((error: unknown) => app.log.warn({ err: error }, 'sweep failed'));
    }, SWEEP_INTERVAL_SECONDS * 1_000);
    timer.unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}
