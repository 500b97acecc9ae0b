import {
  checkpointStatement,
  GENESIS_HASH,
  hashAuditEntry,
  type AuditCheckpoint,
  type AuditEntry,
} from './audit-chain.ts';

/**
 * What verification can find wrong:
 * - `modified`: the entry's content no longer hashes to its stored hash.
 * - `missing`: sequence numbers are skipped (entries deleted); `sequence` is the first missing one.
 * - `reordered`: the entry is intact but was written at another sequence number.
 * - `broken-link`: the entry's `previousHash` is not the hash of the entry before it
 *   (that entry was rewritten and re-hashed, or entries were moved).
 * - `bad-signature`: a checkpoint's signature does not verify, or its key is unknown.
 * - `checkpoint-mismatch`: a checkpoint names a hash the log does not have at its sequence.
 * - `truncated`: a checkpoint vouches for entries beyond the end of the log.
 * - `unvouched`: an export's entries go on past its final signed checkpoint, so nothing
 *   vouches for them (they were added after the export was signed). Only offline
 *   verification of an export reports it: a live log may run ahead of its last checkpoint.
 */
export type AuditProblemKind =
  | 'modified'
  | 'missing'
  | 'reordered'
  | 'broken-link'
  | 'bad-signature'
  | 'checkpoint-mismatch'
  | 'truncated'
  | 'unvouched';

export interface AuditProblem {
  sequence: number;
  kind: AuditProblemKind;
  message: string;
}

/** The result of walking a tenant's chain. */
export interface AuditVerificationReport {
  ok: boolean;
  /** Entries examined. */
  entries: number;
  /** Checkpoints examined. */
  checkpoints: number;
  /** The last sequence number in the log (0 when empty). */
  lastSequence: number;
  problems: AuditProblem[];
}

export interface AuditChainInput {
  tenantId: string;
  /** The tenant's entries, in ascending sequence order. */
  entries: readonly AuditEntry[];
  checkpoints: readonly AuditCheckpoint[];
  verifySignature(keyId: string, statement: string, signature: string): boolean;
}

/**
 * Verifies a tenant's audit chain: every entry's hash, the links between entries, the
 * sequence numbers, and every checkpoint's signature and hash. Pure: it reports, never throws.
 */
export function verifyAuditChain(input: AuditChainInput): AuditVerificationReport {
  const problems = [...entryProblems(input), ...checkpointProblems(input)];
  problems.sort((a, b) => a.sequence - b.sequence || a.kind.localeCompare(b.kind));
  return {
    ok: problems.length === 0,
    entries: input.entries.length,
    checkpoints: input.checkpoints.length,
    lastSequence: input.entries.at(-1)?.sequence ?? 0,
    problems,
  };
}

function hashesAt(entry: AuditEntry, sequence: number): boolean {
  const { hash, ...content } = entry;
  return hashAuditEntry({ ...content, sequence }) === hash;
}

function entryProblems(input: AuditChainInput): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const originalSequence = createOriginalSequenceFinder(input.entries);
  const reordered = new Set<number>();
  let previous: AuditEntry | undefined;
  for (const entry of input.entries) {
    const expected = (previous?.sequence ?? 0) + 1;
    const gap = entry.sequence > expected;
    if (gap) problems.push(missing(expected, entry.sequence));
    // A gap or a moved predecessor already explains a link that does not match.
    const explained = gap || reordered.has(expected - 1);
    const problem = hashesAt(entry, entry.sequence)
      ? linkProblem(entry, previous, explained)
      : contentProblem(entry, originalSequence(entry));
    if (problem?.kind === 'reordered') reordered.add(entry.sequence);
    if (problem) problems.push(problem);
    previous = entry;
  }
  return problems;
}

function missing(first: number, next: number): AuditProblem {
  const last = next - 1;
  const which = first === last ? `entry ${first} is` : `entries ${first}–${last} are`;
  return { sequence: first, kind: 'missing', message: `${which} missing (deleted)` };
}

/** An intact entry must link to the one before it, unless a reported problem explains why not. */
function linkProblem(
  entry: AuditEntry,
  previous: AuditEntry | undefined,
  explained: boolean,
): AuditProblem | undefined {
  if (explained) return undefined;
  const expectedHash = previous?.hash ?? GENESIS_HASH;
  if (entry.previousHash === expectedHash) return undefined;
  return {
    sequence: entry.sequence,
    kind: 'broken-link',
    message:
      previous === undefined
        ? `entry ${entry.sequence} is the first but does not start the chain`
        : `entry ${entry.sequence} does not link to entry ${previous.sequence}: one of them was rewritten or moved`,
  };
}

function contentProblem(entry: AuditEntry, original: number | undefined): AuditProblem {
  if (original !== undefined && original !== entry.sequence && hashesAt(entry, original)) {
    return {
      sequence: entry.sequence,
      kind: 'reordered',
      message: `entry ${entry.sequence} was written as entry ${original}`,
    };
  }
  return {
    sequence: entry.sequence,
    kind: 'modified',
    message: `entry ${entry.sequence} does not match its hash: its content was changed`,
  };
}

/**
 * Where an entry sat when it was written, found by following `previousHash` links back
 * to an entry that is intact at its place (or to the start of the chain). Iterative and
 * memoised: a log with many bad entries costs linear time and no deep recursion.
 */
function createOriginalSequenceFinder(
  entries: readonly AuditEntry[],
): (entry: AuditEntry) => number | undefined {
  const byHash = new Map<string, AuditEntry>();
  for (const entry of entries) if (!byHash.has(entry.hash)) byHash.set(entry.hash, entry);
  const known = new Map<AuditEntry, number | undefined>();

  /** The entry's own place if it is intact there, 1 if it starts the chain, else unknown. */
  function anchor(entry: AuditEntry): number | undefined {
    if (known.has(entry)) return known.get(entry);
    if (hashesAt(entry, entry.sequence)) return entry.sequence;
    return entry.previousHash === GENESIS_HASH ? 1 : undefined;
  }

  return (start) => {
    const path: AuditEntry[] = [];
    const seen = new Set<AuditEntry>();
    let current: AuditEntry | undefined = start;
    let base: number | undefined;
    while (current !== undefined && !seen.has(current)) {
      base = anchor(current);
      if (base !== undefined || known.has(current)) break;
      seen.add(current);
      path.push(current);
      current = byHash.get(current.previousHash);
    }
    if (path.length === 0) return base;
    for (const entry of path.reverse()) {
      base = base === undefined ? undefined : base + 1;
      known.set(entry, base);
    }
    return known.get(start);
  };
}

function checkpointProblems(input: AuditChainInput): AuditProblem[] {
  const bySequence = new Map(input.entries.map((entry) => [entry.sequence, entry]));
  const lastSequence = input.entries.at(-1)?.sequence ?? 0;
  return input.checkpoints.flatMap((checkpoint) => {
    const problems: AuditProblem[] = [];
    const { sequence, hash, keyId, signature } = checkpoint;
    const statement = checkpointStatement(input.tenantId, sequence, hash);
    if (!input.verifySignature(keyId, statement, signature)) {
      problems.push({
        sequence,
        kind: 'bad-signature',
        message: `checkpoint ${sequence} is not validly signed by key ${keyId}`,
      });
    }
    const mismatch = checkpointHashProblem(checkpoint, bySequence.get(sequence), lastSequence);
    if (mismatch) problems.push(mismatch);
    return problems;
  });
}

function checkpointHashProblem(
  { sequence, hash }: AuditCheckpoint,
  entry: AuditEntry | undefined,
  lastSequence: number,
): AuditProblem | undefined {
  if (entry?.hash === hash) return undefined;
  if (entry === undefined && sequence > lastSequence) {
    return {
      sequence,
      kind: 'truncated',
      message: `checkpoint ${sequence} vouches for entries up to ${sequence}, but the log ends at ${lastSequence}`,
    };
  }
  const found = entry === undefined ? 'no entry' : `${entry.hash.slice(0, 12)}…`;
  return {
    sequence,
    kind: 'checkpoint-mismatch',
    message: `checkpoint ${sequence} names hash ${hash.slice(0, 12)}…, the log has ${found} there`,
  };
}
