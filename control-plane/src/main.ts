import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, readPlatformConfig } from './config/platform-config.ts';
import { createLogger } from './logger.ts';
import { startPlatform } from './platform.ts';

/** `npm start`: the whole platform on one machine. Configuration comes from the environment only. */
async function main(): Promise<void> {
  let config;
  try {
    config = readPlatformConfig(process.env, process.cwd());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`citadel: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const platform = await startPlatform(config, logger);
  if (platform.generatedAdminToken !== undefined) {
    // Shown once; only its digest is stored. Also left in a 0600 file for the local operator.
    const tokenFile = path.join(config.dataDir, 'initial-admin-token');
    await writeFile(tokenFile, `${platform.generatedAdminToken}\n`, { mode: 0o600 });
    await chmod(tokenFile, 0o600);
    process.stdout.write(
      `\nCitadel platform-operator token (shown once, also in ${tokenFile}):\n\n  ${platform.generatedAdminToken}\n\n` +
        `export CITADEL_ADMIN_TOKEN=${platform.generatedAdminToken}\n\n`,
    );
  }
  logger.info(
    { url: platform.url, instanceId: platform.instanceId, dataDir: config.dataDir },
    'Citadel is up',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    platform.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // While shutting down, background work (an audit write, a timer) may fail because its
  // database or Redis is already closed: say so, but let the clean exit happen. At any
  // other time an unhandled rejection is a bug and stops the process, as Node would.
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason, stopping }, 'unhandled rejection');
    if (!stopping) process.exit(1);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `citadel: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
