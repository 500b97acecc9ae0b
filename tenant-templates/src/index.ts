export * from './tenant-labels.ts';
