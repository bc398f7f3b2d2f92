/** ApplicationFailure types: classification is done in activities, retry policy in workflows. */
export const ERR = {
  rateLimited: 'RateLimited',
  llmUnavailable: 'LlmUnavailable',
  llmRejected: 'LlmRequestRejected',
  sandboxInfra: 'SandboxInfraError',
  badBatch: 'BadBatch',
} as const;
