export * from './config/platform-config.ts';
export * from './logger.ts';
export * from './platform.ts';
