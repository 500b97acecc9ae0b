import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own extension point
  namespace Express {
    interface Request {
      /** The request id: the caller's `X-Request-Id` when well-formed, a new UUID otherwise. */
      id: string;
      /** A logger bound to this request's id. */
      log: Logger;
    }
  }
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Gives every request an id and a child logger, echoes the id, and logs the outcome. */
export function requestContext(logger: Logger): RequestHandler {
  return (request, response, next) => {
    const given = request.get('x-request-id');
    request.id = given !== undefined && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    request.log = logger.child({ requestId: request.id });
    response.setHeader('X-Request-Id', request.id);
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      request.log.info(
        {
          method: request.method,
          path: request.originalUrl,
          status: response.statusCode,
          durationMs,
        },
        'request completed',
      );
    });
    next();
  };
}
