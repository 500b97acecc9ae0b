import type { Logger } from '../logger.ts';
import type { AuditEvent } from './audit-entry.ts';
import type { AuditLog } from './audit-log.ts';

export interface AuditRecorderDeps {
  auditLog: Pick<AuditLog, 'append'>;
  logger: Logger;
}

/**
 * How other modules write to the audit log. `record` waits for the entry (the action it
 * records has happened, so a failed write is logged, never turned into a failed request);
 * `recordInBackground` returns at once, for hot paths such as the gateway's 401s.
 */
export interface AuditRecorder {
  record(tenantId: string, event: AuditEvent): Promise<void>;
  recordInBackground(tenantId: string, event: AuditEvent): void;
}

interface BackgroundState {
  /** The newest event that arrived while a write was in flight. */
  latest: AuditEvent | undefined;
  /** How many events arrived while a write was in flight. */
  coalesced: number;
}

/**
 * Creates the recorder. Background writes are bounded: while one tenant's write is in
 * flight, further events for it are counted, and the newest is written next with
 * `details.coalesced` = that count. A flood of bad credentials thus costs one write at a
 * time per tenant, not one per request, and the count is kept.
 */
export function createAuditRecorder(deps: AuditRecorderDeps): AuditRecorder {
  const inFlight = new Map<string, BackgroundState>();

  async function record(tenantId: string, event: AuditEvent): Promise<void> {
    try {
      await deps.auditLog.append(tenantId, event);
    } catch (error) {
      deps.logger.error({ err: error, tenantId, action: event.action }, 'audit append failed');
    }
  }

  async function drain(tenantId: string, first: AuditEvent): Promise<void> {
    let next: AuditEvent | undefined = first;
    while (next !== undefined) {
      await record(tenantId, next);
      const state = inFlight.get(tenantId);
      const latest = state?.latest;
      next =
        latest === undefined || state === undefined
          ? undefined
          : { ...latest, details: { ...latest.details, coalesced: state.coalesced } };
      if (state) Object.assign(state, { latest: undefined, coalesced: 0 });
    }
    inFlight.delete(tenantId);
  }

  return {
    record,
    recordInBackground(tenantId, event) {
      const state = inFlight.get(tenantId);
      if (state) {
        state.latest = event;
        state.coalesced += 1;
        return;
      }
      inFlight.set(tenantId, { latest: undefined, coalesced: 0 });
      void drain(tenantId, event);
    },
  };
}
