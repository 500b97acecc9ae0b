import type { Pool } from 'pg';

export type IngestionJobState = 'queued' | 'running' | 'succeeded' | 'failed';

/** One ingestion as a resumable job (table `library.ingestion_jobs`). */
export interface IngestionJob {
  id: string;
  idempotencyKey: string | null;
  /** SHA-256 of the request: a key reused for another request is refused. */
  requestDigest: string;
  /** The document the job writes (allocated when the job is created, so a retry reuses it). */
  documentId: string;
  state: IngestionJobState;
  attempts: number;
  /** The request, encrypted with the tenant's data key when one is configured; null once done. */
  input: Buffer | null;
  inputKeyVersion: number | null;
  result: unknown;
  problem: unknown;
  createdBy: string;
  createdAt: string;
}

export interface NewIngestionJob {
  id: string;
  idempotencyKey: string | undefined;
  requestDigest: string;
  documentId: string;
  state: 'queued' | 'running';
  input: Buffer;
  inputKeyVersion: number | null;
  createdBy: string;
  /** A running job's lease: another worker may take it over after this long. */
  leaseMs: number;
}

export interface IngestionJobStore {
  /**
   * Creates the job, or answers the existing job of the same idempotency key (`created:
   * false`) — whatever its state.
   */
  create(job: NewIngestionJob): Promise<{ job: IngestionJob; created: boolean }>;
  get(id: string): Promise<IngestionJob | undefined>;
  /**
   * Takes a job to run: a queued one, or a running one whose lease ran out (its worker died).
   * Answers undefined when another worker holds it or it is finished.
   */
  claim(id: string, leaseMs: number): Promise<IngestionJob | undefined>;
  /** The ids of jobs waiting for a worker: queued, or running with an expired lease. */
  pending(limit: number): Promise<string[]>;
  /** Extends a running job's lease (long documents). */
  renew(id: string, leaseMs: number): Promise<void>;
  /** Ends a job with a result that wrote nothing (an unchanged document). */
  succeed(id: string, result: unknown): Promise<void>;
  /** Ends a job with the problem the caller must fix; the input is dropped. */
  fail(id: string, problem: unknown): Promise<void>;
}

interface JobRow {
  id: string;
  idempotency_key: string | null;
  request_digest: string;
  document_id: string;
  state: IngestionJobState;
  attempts: number;
  input: Buffer | null;
  input_key_version: number | null;
  result: unknown;
  problem: unknown;
  created_by: string;
  created_at: Date;
}

const toJob = (row: JobRow): IngestionJob => ({
  id: row.id,
  idempotencyKey: row.idempotency_key,
  requestDigest: row.request_digest,
  documentId: row.document_id,
  state: row.state,
  attempts: row.attempts,
  input: row.input,
  inputKeyVersion: row.input_key_version,
  result: row.result,
  problem: row.problem,
  createdBy: row.created_by,
  createdAt: row.created_at.toISOString(),
});

/** The library's ingestion jobs in the tenant's database. */
export function createIngestionJobStore(pool: Pool): IngestionJobStore {
  return {
    async create(job) {
      const inserted = await pool.query<JobRow>(
        `INSERT INTO library.ingestion_jobs
           (id, idempotency_key, request_digest, document_id, state, attempts, lease_until,
            input, input_key_version, created_by)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'running' THEN 1 ELSE 0 END,
                 CASE WHEN $5 = 'running' THEN now() + make_interval(secs => $6 / 1000.0) END,
                 $7, $8, $9)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING *`,
        [
          job.id,
          job.idempotencyKey ?? null,
          job.requestDigest,
          job.documentId,
          job.state,
          job.leaseMs,
          job.input,
          job.inputKeyVersion,
          job.createdBy,
        ],
      );
      if (inserted.rows[0]) return { job: toJob(inserted.rows[0]), created: true };
      const existing = await pool.query<JobRow>(
        'SELECT * FROM library.ingestion_jobs WHERE idempotency_key = $1',
        [job.idempotencyKey],
      );
      const row = existing.rows[0];
      if (!row) throw new Error('ingestion job vanished between insert and read');
      return { job: toJob(row), created: false };
    },

    async get(id) {
      const { rows } = await pool.query<JobRow>(
        'SELECT * FROM library.ingestion_jobs WHERE id = $1',
        [id],
      );
      return rows[0] ? toJob(rows[0]) : undefined;
    },

    async claim(id, leaseMs) {
      const { rows } = await pool.query<JobRow>(
        `UPDATE library.ingestion_jobs
            SET state = 'running', attempts = attempts + 1, updated_at = now(),
                lease_until = now() + make_interval(secs => $2 / 1000.0)
          WHERE id = $1
            AND (state = 'queued' OR (state = 'running' AND lease_until < now()))
          RETURNING *`,
        [id, leaseMs],
      );
      return rows[0] ? toJob(rows[0]) : undefined;
    },

    async pending(limit) {
      const { rows } = await pool.query<{ id: string }>(
        `SELECT id FROM library.ingestion_jobs
          WHERE state = 'queued' OR (state = 'running' AND lease_until < now())
          ORDER BY created_at LIMIT $1`,
        [limit],
      );
      return rows.map((row) => row.id);
    },

    async renew(id, leaseMs) {
      await pool.query(
        `UPDATE library.ingestion_jobs
            SET lease_until = now() + make_interval(secs => $2 / 1000.0), updated_at = now()
          WHERE id = $1 AND state = 'running'`,
        [id, leaseMs],
      );
    },

    async succeed(id, result) {
      await pool.query(
        `UPDATE library.ingestion_jobs SET state = 'succeeded', result = $2, input = NULL,
           lease_until = NULL, updated_at = now() WHERE id = $1`,
        [id, JSON.stringify(result)],
      );
    },

    async fail(id, problem) {
      await pool.query(
        `UPDATE library.ingestion_jobs SET state = 'failed', problem = $2, input = NULL,
           lease_until = NULL, updated_at = now() WHERE id = $1`,
        [id, JSON.stringify(problem)],
      );
    },
  };
}
