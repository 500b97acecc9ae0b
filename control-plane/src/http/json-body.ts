import express, { type RequestHandler } from 'express';
import { problem } from './problem.ts';

/** Bodies larger than this are refused with 413. */
export const JSON_BODY_LIMIT = '64kb';

/**
 * Parses JSON bodies, and refuses with 415 a body sent as anything but JSON, so a
 * form post or a text body can never be mistaken for an empty object.
 */
export function jsonBody(): RequestHandler[] {
  const requireJson: RequestHandler = (request, _response, next) => {
    const hasBody =
      request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody && !request.is('application/json')) {
      next(
        problem({
          status: 415,
          slug: 'unsupported-media-type',
          title: 'Unsupported media type',
          detail: 'Send the body as application/json.',
        }),
      );
      return;
    }
    next();
  };
  return [
    requireJson,
    express.json({ limit: JSON_BODY_LIMIT, strict: true, type: 'application/json' }),
  ];
}
