import type { PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { CedarEntityUid } from './authorization-request.ts';

/**
 * What a policy set's conditions can observe of a request beyond its scope, read from
 * Cedar's JSON form of the policies: entity literals, and attributes by name.
 */
export interface ConditionReads {
  /**
   * The entity literals conditions name (`Citadel::Tenant::"…"`): an expression may read
   * their attributes or ancestors, so the entities a request passes must include them. Scope
   * literals need no entity: Cedar only compares them with uids and ancestors.
   */
  entities: CedarEntityUid[];
  /** Every attribute name a condition reads or tests (`e.name`, `e has name`). */
  attributes: Set<string>;
  /**
   * Whether `context` is used other than by attribute (`context == {…}`): then every one of
   * its attributes is observable.
   */
  wholeContext: boolean;
  /**
   * Whether a condition reads the attributes, tags or ancestors of an entity other than the
   * principal and the resource (`resource.owner.email`, `resource.owner in …`, a literal's
   * attribute). When none does, Cedar needs no entity but those two and their ancestors.
   */
  readsOtherEntities: boolean;
}

interface Operands {
  left?: unknown;
  attr?: unknown;
  in?: unknown;
}

interface Node {
  Var?: unknown;
  __entity?: Partial<CedarEntityUid>;
  '.'?: Operands;
  has?: Operands;
}

/** The operators that read an entity's data (attributes, tags, ancestors) from their left. */
const DATA_READS = ['.', 'has', 'getTag', 'hasTag', 'in'] as const;

/** `principal`, `resource`, `context` (a record) and `action` (from the schema): never another. */
function isRequestEntity(node: unknown): boolean {
  const name = (node as Node | undefined)?.Var;
  return name === 'principal' || name === 'resource' || name === 'context' || name === 'action';
}

/** Whether this node reads the data of an entity that is not the principal or the resource. */
function readsOtherEntity(node: Record<string, Operands | undefined>): boolean {
  const is = node.is;
  if (is?.in !== undefined && !isRequestEntity(is.left)) return true;
  return DATA_READS.some((operator) => {
    const operands = node[operator];
    return operands !== undefined && !isRequestEntity(operands.left);
  });
}

function isContext(node: unknown): boolean {
  return (node as Node | undefined)?.Var === 'context';
}

function readLiteral(node: Node, reads: ConditionReads): void {
  const literal = node.__entity;
  if (typeof literal?.type === 'string' && typeof literal.id === 'string') {
    reads.entities.push({ type: literal.type, id: literal.id });
  }
}

/** Reads one node; returns the children still to read. */
function readNode(node: Node, reads: ConditionReads): unknown[] {
  readLiteral(node, reads);
  if (readsOtherEntity(node as Record<string, Operands | undefined>))
    reads.readsOtherEntities = true;
  if (node.Var === 'context') reads.wholeContext = true;
  const access = node['.'] ?? node.has;
  if (access === undefined) return Object.values(node);
  // `e has a.b` names a path: every step is an attribute read.
  const names: unknown[] = Array.isArray(access.attr) ? access.attr : [access.attr];
  for (const name of names) if (typeof name === 'string') reads.attributes.add(name);
  // `context.x` reads one attribute of the context, not the whole of it.
  return isContext(access.left) ? [] : [access.left];
}

export function readConditions(policies: readonly PolicyJson[]): ConditionReads {
  const reads: ConditionReads = {
    entities: [],
    attributes: new Set(),
    wholeContext: false,
    readsOtherEntities: false,
  };
  const pending: unknown[] = policies.map((policy) => policy.conditions);
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node === null || typeof node !== 'object') continue;
    pending.push(...readNode(node, reads));
  }
  return reads;
}
