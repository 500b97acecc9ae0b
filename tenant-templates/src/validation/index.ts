export * from './kubernetes-object-problems.ts';
export * from './tenant-manifest-models.ts';
