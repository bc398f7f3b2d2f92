/** Workflow bundle entry: every workflow type the orchestration worker runs. */
export { seedWorkflow } from './seed-workflow';
export { batchWorkflow } from './batch-workflow';
