import type { Pool } from 'pg';
import { inTransaction } from './in-transaction.ts';

/** A named set of document versions: the knowledge base as it was when it was taken. */
export interface SnapshotRecord {
  name: string;
  description: string;
  documents: number;
  createdBy: string;
  createdAt: string;
}

export interface SnapshotStore {
  /** Names the current version of every document in the knowledge base. */
  create(input: { name: string; description: string; createdBy: string }): Promise<SnapshotRecord>;
  list(): Promise<SnapshotRecord[]>;
  get(name: string): Promise<SnapshotRecord | undefined>;
  /** The versions a snapshot names, by document. */
  members(name: string): Promise<Array<{ documentId: string; version: number }>>;
  delete(name: string): Promise<boolean>;
  /**
   * Makes the snapshot's versions the current ones: a document it names gets that version
   * back, a document it does not name leaves the current knowledge base (its versions stay,
   * citable, until deleted). One transaction; answers how many documents changed.
   */
  rollback(name: string, rolledBackBy: string): Promise<{ changed: number } | undefined>;
}

/** A snapshot with this name exists already. */
export class SnapshotExistsError extends Error {
  constructor(name: string) {
    super(`a snapshot named ${name} exists already`);
    this.name = 'SnapshotExistsError';
  }
}

interface SnapshotRow {
  name: string;
  description: string;
  documents: number;
  created_by: string;
  created_at: Date;
}

const toRecord = (row: SnapshotRow): SnapshotRecord => ({
  name: row.name,
  description: row.description,
  documents: row.documents,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
});

/** Knowledge-base snapshots in the tenant's database (tables of `ensureLibrarySchema`). */
export function createSnapshotStore(pool: Pool): SnapshotStore {
  return {
    async create({ name, description, createdBy }) {
      return inTransaction(pool, async (client) => {
        // Ingestions lock their document row; a share lock on all of them makes the snapshot
        // one consistent set (no version half-written while it is taken).
        await client.query('LOCK TABLE library.documents IN SHARE MODE');
        const inserted = await client.query<SnapshotRow>(
          `INSERT INTO library.snapshots (name, description, documents, created_by)
           SELECT $1, $2, count(*), $3 FROM library.documents WHERE current_version IS NOT NULL
           ON CONFLICT (name) DO NOTHING
           RETURNING *`,
          [name, description, createdBy],
        );
        const row = inserted.rows[0];
        if (!row) throw new SnapshotExistsError(name);
        await client.query(
          `INSERT INTO library.snapshot_members (snapshot, document_id, version)
           SELECT $1, id, current_version FROM library.documents WHERE current_version IS NOT NULL`,
          [name],
        );
        await client.query(
          `INSERT INTO library.outbox (event_type, payload) VALUES ('SnapshotCreated', $1)`,
          [JSON.stringify({ snapshot: name, documents: row.documents, createdBy })],
        );
        return toRecord(row);
      });
    },

    async list() {
      const { rows } = await pool.query<SnapshotRow>(
        'SELECT * FROM library.snapshots ORDER BY created_at, name',
      );
      return rows.map(toRecord);
    },

    async get(name) {
      const { rows } = await pool.query<SnapshotRow>(
        'SELECT * FROM library.snapshots WHERE name = $1',
        [name],
      );
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async members(name) {
      const { rows } = await pool.query<{ document_id: string; version: number }>(
        'SELECT document_id, version FROM library.snapshot_members WHERE snapshot = $1 ORDER BY document_id',
        [name],
      );
      return rows.map((row) => ({ documentId: row.document_id, version: row.version }));
    },

    async delete(name) {
      const { rowCount } = await pool.query('DELETE FROM library.snapshots WHERE name = $1', [
        name,
      ]);
      return (rowCount ?? 0) > 0;
    },

    async rollback(name, rolledBackBy) {
      return inTransaction(pool, async (client) => {
        // No ingestion may interleave: it would set a current version the rollback overwrites.
        await client.query('LOCK TABLE library.documents IN SHARE ROW EXCLUSIVE MODE');
        const exists = await client.query('SELECT 1 FROM library.snapshots WHERE name = $1', [
          name,
        ]);
        if (exists.rowCount === 0) return undefined;
        const changed = await client.query<{ id: string }>(
          `UPDATE library.documents d SET current_version = m.version,
                  generation = d.generation + 1, updated_at = now()
             FROM library.documents d2
             LEFT JOIN library.snapshot_members m ON m.document_id = d2.id AND m.snapshot = $1
            WHERE d.id = d2.id AND d.current_version IS DISTINCT FROM m.version
            RETURNING d.id`,
          [name],
        );
        const ids = changed.rows.map((row) => row.id);
        if (ids.length > 0) {
          await client.query(
            `UPDATE library.chunks c SET is_current = COALESCE(c.version = d.current_version, false)
               FROM library.documents d
              WHERE d.id = c.document_id AND c.document_id = ANY($1::uuid[])
                AND c.is_current IS DISTINCT FROM COALESCE(c.version = d.current_version, false)`,
            [ids],
          );
        }
        await client.query(
          `INSERT INTO library.outbox (event_type, payload) VALUES ('SnapshotRestored', $1)`,
          [JSON.stringify({ snapshot: name, changed: ids.length, rolledBackBy })],
        );
        return { changed: ids.length };
      });
    },
  };
}
