import { randomUUID } from 'node:crypto';
import type { HostLogger, HostProblem, TenantDataCipher } from '@citadel/data-plane-runtime';
import { LibraryRequestError } from '../http/library-requests.ts';
import { DocumentParseError } from '../parsing/document-parse-error.ts';
import type { IngestionJob, IngestionJobStore } from '../store/ingestion-job-store.ts';
import { DocumentNotFoundError, type LibraryStore } from '../store/library-store.ts';
import {
  ingestDocument,
  type IngestionPolicy,
  type IngestProvenance,
  type IngestResult,
} from './ingest-document.ts';
import { digestIngestRequest, type IngestRequest } from './ingest-request.ts';

/** What a job stores as its input: the request and who made it. */
interface JobInput {
  request: IngestRequest;
  provenance: IngestProvenance;
  create: boolean;
}

/** How a submitted ingestion ended, or that it runs on. */
export type IngestionOutcome =
  | { kind: 'done'; result: IngestResult; replayed: boolean }
  | { kind: 'accepted'; job: IngestionJob }
  | { kind: 'failed'; problem: HostProblem; replayed: boolean };

export interface IngestionJobsOptions {
  jobs: IngestionJobStore;
  store: LibraryStore;
  policy: () => Promise<IngestionPolicy>;
  cipher: TenantDataCipher | undefined;
  logger: HostLogger;
  /** A running job's lease; a job whose worker died is taken over after it. Default 60 s. */
  leaseMs?: number;
  /** A job failing this many times for reasons not the caller's fails for good. Default 5. */
  maxAttempts?: number;
}

/** The problem a caller's mistake answers, or undefined for the platform's own failures. */
export function callerProblemOf(error: unknown): HostProblem | undefined {
  if (error instanceof LibraryRequestError) return error.problem;
  if (error instanceof DocumentParseError) {
    return { type: error.code.replaceAll('_', '-'), title: error.message, status: error.status };
  }
  if (error instanceof DocumentNotFoundError) {
    return { type: 'not-found', title: 'Not Found', status: 404, detail: error.message };
  }
  return undefined;
}

const jobAssociatedData = (jobId: string) => `citadel-library-ingestion-job:${jobId}`;

/**
 * Every ingestion is a job (table `library.ingestion_jobs`): its validated request is stored
 * first — encrypted with the tenant's data key when the host has one — and the job is
 * finished in the transaction that writes the version. So a process killed at any point
 * leaves either a finished job with its document, or an unfinished job and no trace of a
 * document; the job is then resumed (by the caller's retry with the same `Idempotency-Key`,
 * or by the service's worker once the lease of the dead process runs out) and written once.
 */
export function createIngestionJobs(options: IngestionJobsOptions) {
  const { jobs, cipher, logger } = options;
  const leaseMs = options.leaseMs ?? 60_000;
  const maxAttempts = options.maxAttempts ?? 5;

  function sealInput(jobId: string, input: JobInput) {
    const plain = Buffer.from(JSON.stringify(input), 'utf8');
    return cipher
      ? {
          input: cipher.encrypt(plain, jobAssociatedData(jobId)),
          inputKeyVersion: cipher.activeKeyVersion,
        }
      : { input: plain, inputKeyVersion: null };
  }

  function openInput(job: IngestionJob): JobInput {
    if (!job.input) throw new Error(`ingestion job ${job.id} has no input`);
    const plain =
      job.inputKeyVersion === null
        ? job.input
        : requireCipher().decrypt(job.input, jobAssociatedData(job.id));
    return JSON.parse(plain.toString('utf8')) as JobInput;
  }

  function requireCipher(): TenantDataCipher {
    if (!cipher) throw new Error('an encrypted ingestion job needs the tenant data keys');
    return cipher;
  }

  /** Runs a claimed job to its end; a caller's mistake fails it, anything else is retried. */
  async function run(job: IngestionJob): Promise<IngestionOutcome> {
    const input = openInput(job);
    try {
      const result = await ingestDocument({
        request: input.request,
        documentId: job.documentId,
        create: input.create,
        provenance: input.provenance,
        policy: await options.policy(),
        store: options.store,
        cipher,
        logger,
        job: { id: job.id },
      });
      // An unchanged document wrote nothing, so nothing finished the job yet.
      if (result.unchanged) await jobs.succeed(job.id, result);
      return { kind: 'done', result, replayed: false };
    } catch (error) {
      const problem = callerProblemOf(error);
      if (problem) {
        await jobs.fail(job.id, problem);
        return { kind: 'failed', problem, replayed: false };
      }
      if (job.attempts >= maxAttempts) {
        const failed: HostProblem = {
          type: 'ingestion-failed',
          title: 'Ingestion failed',
          status: 502,
          detail: `The document could not be ingested after ${job.attempts} attempts.`,
        };
        await jobs.fail(job.id, failed);
        logger.error(
          { jobId: job.id, attempts: job.attempts, error },
          'ingestion job failed for good',
        );
      }
      throw error;
    }
  }

  function outcomeOf(job: IngestionJob): IngestionOutcome | undefined {
    if (job.state === 'succeeded') {
      return { kind: 'done', result: job.result as IngestResult, replayed: true };
    }
    if (job.state === 'failed') {
      return { kind: 'failed', problem: job.problem as HostProblem, replayed: true };
    }
    return undefined;
  }

  return {
    /**
     * Submits an ingestion. Synchronous (default): runs it now and answers its outcome.
     * `respondAsync`: answers the queued job at once; the worker runs it.
     */
    async submit(submission: {
      request: IngestRequest;
      provenance: IngestProvenance;
      idempotencyKey: string | undefined;
      respondAsync: boolean;
    }): Promise<IngestionOutcome> {
      const { request } = submission;
      const id = randomUUID();
      const create = request.documentId === undefined;
      const sealed = sealInput(id, { request, provenance: submission.provenance, create });
      const { job, created } = await jobs.create({
        id,
        idempotencyKey: submission.idempotencyKey,
        requestDigest: digestIngestRequest(request),
        documentId: request.documentId ?? randomUUID(),
        state: submission.respondAsync ? 'queued' : 'running',
        ...sealed,
        createdBy: submission.provenance.ingestedBy,
        leaseMs,
      });
      if (!created) {
        if (job.requestDigest !== digestIngestRequest(request)) {
          throw new LibraryRequestError({
            type: 'idempotency-key-reused',
            title: 'Idempotency key reused',
            status: 422,
            detail: 'This Idempotency-Key was used for another request.',
          });
        }
        const finished = outcomeOf(job);
        if (finished) return finished;
        if (submission.respondAsync) return { kind: 'accepted', job };
        // A retry of a job whose worker died: take it over (once its lease has run out).
        const claimed = await jobs.claim(job.id, leaseMs);
        if (!claimed) {
          throw LibraryRequestError.conflict(
            'ingestion-in-progress',
            'This ingestion is still running; retry later or poll its job.',
          );
        }
        return run(claimed);
      }
      if (submission.respondAsync) return { kind: 'accepted', job };
      return run(job);
    },

    get: (id: string) => jobs.get(id),

    /** Resumes jobs that wait: queued ones and those whose worker died. Answers how many ran. */
    async resumePending(limit = 5): Promise<number> {
      let ran = 0;
      for (const id of await jobs.pending(limit)) {
        const claimed = await jobs.claim(id, leaseMs);
        if (!claimed) continue;
        ran += 1;
        try {
          await run(claimed);
        } catch (error) {
          logger.warn({ jobId: id, error }, 'ingestion job attempt failed; it will be retried');
        }
      }
      return ran;
    },
  };
}

export type IngestionJobs = ReturnType<typeof createIngestionJobs>;
