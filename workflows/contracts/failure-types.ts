/** ApplicationFailure types: classification is done in activities, retry policy in workflows. */
export const ERR = {
  rateLimited: 'RateLimited',
  llmUnavailable: 'LlmUnavailable',
  /** The endpoint is wrong (key, model, URL): pauses the batch. */
  llmRejected: 'LlmRequestRejected',
  /** This request is wrong (context length, content filter, invalid parameter): that turn or sample fails, the seed goes on. */
  llmRequestInvalid: 'LlmRequestInvalid',
  /** Fewer samples came than were asked for (null or missing choices): retried; after a few attempts the problem fails with the reason. */
  llmShortfall: 'LlmSampleShortfall',
  /**
   * Not a failure: the samples went into a provider batch file (CAIRN_<ROLE>_API=batch). Non-retryable;
   * the seed waits for llmBatchReadySignal (or re-checks hourly) and calls the activity again.
   */
  llmBatchPending: 'LlmBatchPending',
  sandboxInfra: 'SandboxInfraError',
  badBatch: 'BadBatch',
} as const;
