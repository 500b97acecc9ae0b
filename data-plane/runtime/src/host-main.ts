/**
 * Entry of a tenant's data-plane host, started by the control plane's supervisor with the
 * tenant's environment and an IPC channel. Reports `{type: 'ready', port}` over IPC once
 * listening (with `grpcPort` when `GRPC_PORT` is set), and exits when the channel closes: a
 * host never outlives its supervisor.
 */
import { createDataPlaneHost } from './data-plane-host.ts';
import { readHostEnvironment } from './host-environment.ts';
import { createJsonLineLogger } from './host-logger.ts';
import { createRefusingAuthenticator, createTokenAuthenticator } from './request-authentication.ts';
import { DATA_PLANE_SERVICE_FACTORIES } from './service-registry.ts';

/** EX_CONFIG from sysexits.h: the configuration is wrong, restarting will not help. */
const EXIT_CONFIG = 78;
const SHUTDOWN_GRACE_MS = 4_000;

const result = readHostEnvironment(process.env);
if (!result.ok) {
  process.stderr.write(
    `citadel data-plane host: invalid environment: ${result.problems.join('; ')}\n`,
  );
  process.exit(EXIT_CONFIG);
}
const config = result.environment;
const logger = createJsonLineLogger(process.stdout, {
  component: 'data-plane-host',
  tenant: config.tenantSlug,
  pid: process.pid,
});

if (!config.tokens) {
  logger.warn({}, 'no token issuer configured: every request but health checks is refused');
}
const host = createDataPlaneHost({
  tenantSlug: config.tenantSlug,
  tenantId: config.tenantId,
  databaseUrl: config.databaseUrl,
  services: config.services,
  logger,
  authenticator: config.tokens
    ? createTokenAuthenticator({ tenantId: config.tenantId, ...config.tokens })
    : createRefusingAuthenticator(),
  serviceFactories: DATA_PLANE_SERVICE_FACTORIES,
  environment: process.env,
});

let shuttingDown = false;
const shutdown = (reason: string, exitCode = 0): void => {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ reason }, 'data-plane host shutting down');
  setTimeout(() => {
    logger.warn({}, 'graceful shutdown timed out');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
  host.close().then(
    () => process.exit(exitCode),
    (error: unknown) => {
      logger.error({ error }, 'graceful shutdown failed');
      process.exit(1);
    },
  );
};

// The supervisor is gone (stopped, crashed or SIGKILLed): nobody can route to us any more.
process.on('disconnect', () => shutdown('supervisor disconnected'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

try {
  const port = await host.listen(config.port, config.listenHost);
  // gRPC (and the services it loads) only for a host given GRPC_PORT.
  const grpcPort =
    config.grpcPort === undefined
      ? undefined
      : await host.listenGrpc(config.grpcPort, config.listenHost);
  const grpc = grpcPort === undefined ? {} : { grpcPort };
  logger.info({ port, ...grpc, services: config.services }, 'data-plane host listening');
  if (process.send && process.connected) process.send({ type: 'ready', port, ...grpc });
} catch (error) {
  logger.error({ error }, 'data-plane host could not listen');
  process.exit(1);
}
