export interface EmbedOptions {
  /** Aborts the call (and any retry wait); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Turns texts into vectors. Shared by the library and the orchestrator's AI router: a
 * provider is a model behind an endpoint (or none, for the offline default).
 */
export interface EmbeddingProvider {
  /** Names the provider kind, e.g. `lexical-hash` or `openai-compatible`. */
  readonly id: string;
  readonly model: string;
  /** The length of every vector `embed` returns. */
  readonly dimensions: number;
  /** One vector per text, in the order given. */
  embed(texts: string[], options?: EmbedOptions): Promise<Float32Array[]>;
}
