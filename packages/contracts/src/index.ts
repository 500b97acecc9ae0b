export * from './plan-catalog.ts';
export * from './problem-details.ts';
export * from './tenant-resource.ts';
export * from './tenant-slug.ts';
export * from './canonical-json.ts';
