/**
 * The version of the per-tenant templates, stamped on every object they render as the
 * `citadel.azora.dev/templates-version` label. Semantic versioning (see ADR 12): a patch
 * changes values, a minor adds objects or fields, a major changes something Kubernetes
 * will not update in place (a selector, a name) and so needs a migration step.
 */
export const TEMPLATES_VERSION = '1.2.0';

/** The label that carries {@link TEMPLATES_VERSION}. */
export const TEMPLATES_VERSION_LABEL = 'citadel.azora.dev/templates-version';
