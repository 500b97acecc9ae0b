export * from './tenant-stack-name.ts';
