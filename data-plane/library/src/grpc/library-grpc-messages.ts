import { LibraryRequestError } from '../http/library-requests.ts';
import type { OutboxEvent } from '../outbox/outbox-event.ts';
import type { SearchFilters } from '../store/library-store.ts';
import type { RetrieveRequest, SearchPage } from '../library.ts';

/**
 * The messages of `citadel.library.v1` as `LIBRARY_PROTO_LOADER_OPTIONS` decode them:
 * camelCase, 64-bit integers as strings, absent sub-messages as null, and the name of the set
 * member of each `oneof` in a field of the oneof's name.
 */
export interface TimestampMessage {
  seconds: string | number;
  nanos: number;
}

export interface RetrieveFiltersMessage {
  license?: string;
  source?: string;
  tags?: string[];
  ingestedAfter?: TimestampMessage | null;
  ingestedAfterRfc3339?: string;
  ingestedBefore?: TimestampMessage | null;
  ingestedBeforeRfc3339?: string;
}

export interface RetrieveRequestMessage {
  query?: string;
  limit?: number;
  cursor?: string;
  filters?: RetrieveFiltersMessage | null;
  snapshot?: string;
}

export interface RetrieveResponseMessage {
  hits: Array<{
    documentId: string;
    chunkId: string;
    text: string;
    score: number;
    citation: {
      documentId: string;
      version: number;
      title: string;
      start: number;
      end: number;
      headingPath: string[];
    };
  }>;
  nextCursor: string;
}

export interface StreamEventsRequestMessage {
  afterEventId?: string | number;
  types?: string[];
}

export interface LibraryEventMessage {
  eventId: string;
  type: string;
  occurredAt: TimestampMessage;
  documentId: string;
  version: number;
  chunks: number;
  tenantId: string;
  payloadJson: string;
}

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range google.protobuf.Timestamp allows. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799;

const RFC_3339 = new RegExp(
  String.raw`^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})[Tt]` +
    String.raw`(?<hour>\d{2}):(?<minute>\d{2}):(?<second>\d{2})(?<fraction>\.\d{1,9})?` +
    String.raw`(?:[Zz]|(?<sign>[+-])(?<offsetHour>\d{2}):(?<offsetMinute>\d{2}))$`,
);

/** Minutes east of UTC of an RFC 3339 offset (`Z`, `+02:00`); undefined when out of range. */
function offsetMinutesOf(sign: string | undefined, hours: number, minutes: number) {
  if (sign === undefined) return 0;
  if (hours > 23 || minutes > 59) return undefined;
  return (sign === '-' ? -1 : 1) * (hours * 60 + minutes);
}

/** The instant an RFC 3339 date-time names, or undefined when a field is out of range. */
function instantOfRfc3339(groups: Partial<Record<string, string>>): number | undefined {
  const field = (name: string) => Number(groups[name] ?? '0');
  const [month, day] = [field('month'), field('day')];
  const offset = offsetMinutesOf(groups.sign, field('offsetHour'), field('offsetMinute'));
  // setUTCFullYear, not Date.UTC: that reads years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(field('year'), month - 1, day);
  const valid =
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    field('hour') <= 23 &&
    field('minute') <= 59 &&
    field('second') <= 59 &&
    offset !== undefined;
  if (!valid) return undefined;
  const milliseconds = Math.floor(Number(`0${groups.fraction ?? '.0'}`) * 1000);
  date.setUTCHours(field('hour'), field('minute'), field('second'), milliseconds);
  return date.getTime() - offset * 60_000;
}

function invalid(path: string, message: string): LibraryRequestError {
  return LibraryRequestError.invalid(`${path} ${message}.`, [{ path, message }]);
}

/** A `google.protobuf.Timestamp` as a Date; 400 outside the range the type allows. */
export function dateOfTimestamp(timestamp: TimestampMessage, path: string): Date {
  const seconds = Number(timestamp.seconds);
  const nanos = timestamp.nanos;
  if (
    !Number.isSafeInteger(seconds) ||
    seconds < MIN_TIMESTAMP_SECONDS ||
    seconds > MAX_TIMESTAMP_SECONDS ||
    !Number.isInteger(nanos) ||
    nanos < 0 ||
    nanos > 999_999_999
  ) {
    throw invalid(path, 'must be a valid google.protobuf.Timestamp');
  }
  return new Date(seconds * 1000 + Math.floor(nanos / 1e6));
}

/** An RFC 3339 date-time as a Date; 400 for anything else (`2026-02-30` included). */
export function dateOfRfc3339(text: string, path: string): Date {
  const groups = RFC_3339.exec(text)?.groups;
  const instant = groups ? instantOfRfc3339(groups) : undefined;
  if (instant === undefined) {
    throw invalid(path, 'must be an RFC 3339 date-time such as 2026-11-01T00:00:00Z');
  }
  return new Date(instant);
}

/** The instant a `oneof` of a Timestamp and its RFC 3339 text sets, if any. */
function instantOf(
  timestamp: TimestampMessage | null | undefined,
  text: string | undefined,
  path: string,
): Date | undefined {
  if (timestamp) return dateOfTimestamp(timestamp, path);
  if (text !== undefined) return dateOfRfc3339(text, `${path}_rfc3339`);
  return undefined;
}

function filtersOf(message: RetrieveFiltersMessage): SearchFilters {
  const filters: SearchFilters = {};
  if (message.license !== undefined) filters.license = message.license;
  if (message.source !== undefined) filters.source = message.source;
  if (message.tags && message.tags.length > 0) filters.tags = message.tags;
  const after = instantOf(
    message.ingestedAfter,
    message.ingestedAfterRfc3339,
    'filters.ingested_after',
  );
  const before = instantOf(
    message.ingestedBefore,
    message.ingestedBeforeRfc3339,
    'filters.ingested_before',
  );
  if (after) filters.ingestedAfter = after;
  if (before) filters.ingestedBefore = before;
  return filters;
}

/**
 * A `RetrieveRequest` as the library's retrieval: proto3's zero values (limit 0, an empty
 * cursor) read as absent; the library validates the rest (query, limit, cursor, snapshot).
 */
export function retrievalRequestOf(message: RetrieveRequestMessage): RetrieveRequest {
  const request: RetrieveRequest = { query: message.query ?? '' };
  if (message.limit !== undefined && message.limit !== 0) request.limit = message.limit;
  if (message.cursor) request.cursor = message.cursor;
  if (message.filters) request.filters = filtersOf(message.filters);
  if (message.snapshot !== undefined) request.snapshot = message.snapshot;
  return request;
}

export function retrieveResponseOf(result: SearchPage): RetrieveResponseMessage {
  return {
    hits: result.hits.map((hit) => ({
      documentId: hit.documentId,
      chunkId: hit.chunkId,
      text: hit.text,
      score: hit.score,
      citation: { ...hit.citation, headingPath: [...hit.citation.headingPath] },
    })),
    nextCursor: result.nextCursor ?? '',
  };
}

/** `after_event_id` as an id; 400 for what is not an unsigned integer. */
export function afterEventIdOf(message: StreamEventsRequestMessage): bigint {
  const text = String(message.afterEventId ?? '0');
  if (!/^\d+$/.test(text)) throw invalid('after_event_id', 'must be an unsigned integer');
  return BigInt(text);
}

function timestampOf(date: Date): TimestampMessage {
  const milliseconds = date.getTime();
  const seconds = Math.floor(milliseconds / 1000);
  return { seconds: String(seconds), nanos: (milliseconds - seconds * 1000) * 1e6 };
}

function stringField(payload: OutboxEvent['payload'], name: string): string {
  const value = payload[name];
  return typeof value === 'string' ? value : '';
}

function integerField(payload: OutboxEvent['payload'], name: string): number {
  const value = payload[name];
  return typeof value === 'number' && Number.isInteger(value) ? value : 0;
}

export function libraryEventOf(event: OutboxEvent, tenantId: string): LibraryEventMessage {
  return {
    eventId: event.id.toString(),
    type: event.type,
    occurredAt: timestampOf(event.occurredAt),
    documentId: stringField(event.payload, 'documentId'),
    version: integerField(event.payload, 'version'),
    chunks: integerField(event.payload, 'chunks'),
    tenantId,
    payloadJson: JSON.stringify(event.payload),
  };
}
