/**
 * How long a console session lives. Two clocks (OWASP Session Management Cheat Sheet):
 * an idle timeout that slides with activity, and an absolute lifetime that does not, so a
 * stolen cookie kept busy still dies. Activity is written at most once per `touchIntervalMs`
 * so reading a session does not cost a write on every request.
 */
export interface SessionLifetime {
  idleTimeoutMs: number;
  maxAgeMs: number;
  touchIntervalMs: number;
}

/** The defaults: 12 hours idle, 7 days at most, activity recorded at most once a minute. */
export const DEFAULT_SESSION_LIFETIME: SessionLifetime = {
  idleTimeoutMs: 12 * 60 * 60 * 1000,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  touchIntervalMs: 60 * 1000,
};

/** The two timestamps that decide a session's fate. */
export interface SessionClock {
  lastSeenAt: Date;
  /** The absolute end, fixed at sign-in. */
  expiresAt: Date;
}

/** When the session ends if nothing else happens: the earlier of idle and absolute expiry. */
export function sessionDeadline(session: SessionClock, lifetime: SessionLifetime): Date {
  const idleDeadline = session.lastSeenAt.getTime() + lifetime.idleTimeoutMs;
  return new Date(Math.min(idleDeadline, session.expiresAt.getTime()));
}

export function isSessionLive(
  session: SessionClock,
  now: Date,
  lifetime: SessionLifetime,
): boolean {
  return now.getTime() < sessionDeadline(session, lifetime).getTime();
}

/** True when the last recorded activity is old enough to be worth a write. */
export function shouldRecordActivity(
  session: SessionClock,
  now: Date,
  lifetime: SessionLifetime,
): boolean {
  return now.getTime() - session.lastSeenAt.getTime() >= lifetime.touchIntervalMs;
}
