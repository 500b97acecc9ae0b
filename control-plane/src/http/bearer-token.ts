import type { Request } from 'express';

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(request: Request): string | undefined {
  const header = request.get('authorization');
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
