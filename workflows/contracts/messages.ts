/** Messages of BatchWorkflow, shared by workflows and scripts (module constants, conventions §8). */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchProgress, SeedDone } from './workflow-io';

export const progressQuery = defineQuery<BatchProgress>('progress');
export const pauseUpdate = defineUpdate<BatchProgress>('pause');
export const resumeUpdate = defineUpdate<BatchProgress>('resume');
export const resizeUpdate = defineUpdate<BatchProgress, [number]>('resize');
export const cancelUpdate = defineUpdate<BatchProgress>('cancel');
/** Sent by each SeedWorkflow when it ends, by workflow id, so it reaches whichever batch run is current. */
export const seedDoneSignal = defineSignal<[SeedDone]>('seedDone');
/** Sent by the batch API collector (activities/llm/batch-api) to a seed whose batched LLM request has its answer. */
export const llmBatchReadySignal = defineSignal('llmBatchReady');
