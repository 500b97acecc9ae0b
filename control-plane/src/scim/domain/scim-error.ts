/** The SCIM error `scimType` values of RFC 7644 §3.12 that this server uses. */
export type ScimErrorType =
  | 'invalidFilter'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'invalidValue'
  | 'uniqueness'
  | 'mutability'
  | 'noTarget'
  | 'tooMany'
  | 'tooLarge';

/** The SCIM error message schema URN. */
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The JSON body of a SCIM error response (RFC 7644 §3.12): `status` is a string. */
export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA];
  status: string;
  scimType?: ScimErrorType;
  detail: string;
}

/** The SCIM module's one error type: an HTTP status, an optional `scimType`, a detail. */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimErrorType | undefined;
  constructor(status: number, detail: string, scimType?: ScimErrorType) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }

  /** The error as a SCIM error body. */
  toBody(): ScimErrorBody {
    return {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(this.status),
      ...(this.scimType === undefined ? {} : { scimType: this.scimType }),
      detail: this.message,
    };
  }
}

/** 400 with a `scimType`. */
export function badRequest(scimType: ScimErrorType, detail: string): ScimError {
  return new ScimError(400, detail, scimType);
}

/** 404 for a resource that does not exist in the caller's tenant. */
export function notFound(resourceType: string, id: string): ScimError {
  return new ScimError(404, `${resourceType} ${id} not found.`);
}

/** 412 when `If-Match` names another version. */
export function preconditionFailed(currentVersion: number): ScimError {
  return new ScimError(
    412,
    `The resource has changed; its current version is W/"${currentVersion}".`,
  );
}
