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
  sandboxInfra: 'SandboxInfraError',
  badBatch: 'BadBatch',
} as const;
