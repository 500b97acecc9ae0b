/** Why an embedding provider's call failed. */
export type EmbeddingProviderErrorCode =
  /** The provider answered with an HTTP error (after any retries). */
  | 'provider_error'
  /** The provider answered 2xx with a body that is not an embeddings response, or the wrong size. */
  | 'invalid_response'
  /** No answer in time, or the connection failed (after any retries). */
  | 'unavailable';

/** A failed embedding call, with the provider's HTTP status and message when it gave them. */
export class EmbeddingProviderError extends Error {
  readonly code: EmbeddingProviderErrorCode;
  readonly status: number | undefined;
  readonly providerMessage: string | undefined;

  constructor(
    code: EmbeddingProviderErrorCode,
    message: string,
    details: { status?: number; providerMessage?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'EmbeddingProviderError';
    this.code = code;
    this.status = details.status;
    this.providerMessage = details.providerMessage;
  }
}
