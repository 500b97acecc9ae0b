export {
  createLibraryOutbox,
  EVENT_RETENTION_VARIABLE,
  outboxSettingsOf,
  type LibraryOutbox,
  type LibraryOutboxOptions,
} from './library-outbox.ts';
export {
  latestOutboxEventId,
  readOutboxPage,
  type OutboxEvent,
  type OutboxPage,
} from './outbox-event.ts';
export {
  createOutboxFeed,
  OutboxEventsPurgedError,
  type OutboxFeed,
  type OutboxFeedOptions,
} from './outbox-feed.ts';
export { ensureOutboxNotifications, OUTBOX_CHANNEL } from './outbox-notifications.ts';
export {
  createOutboxRelay,
  DEFAULT_OUTBOX_RETENTION_MS,
  type OutboxRelay,
  type OutboxRelayOptions,
} from './outbox-relay.ts';
