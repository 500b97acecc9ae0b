/**
 * The library service of a tenant's data plane (the knowledge ocean). Modules export their
 * own entry points; this index re-exports the public ones.
 */
export {};
